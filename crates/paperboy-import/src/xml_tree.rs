//! A small element tree over quick-xml for the Atom and OAI-PMH parsers:
//! local names only (namespaces are ignored, so a missing default namespace
//! does not matter), text with entities resolved, and each element's byte
//! offset so problems can name a line.
//!
//! The responses are at most a few megabytes, so a tree is simpler than a
//! streaming state machine and costs little.

use std::borrow::Cow;

use quick_xml::Reader;

use crate::{ImportError, Location};
use quick_xml::events::{BytesStart, Event};

/// Deeper documents are refused: the tree's drop and the walks recurse.
const MAX_DEPTH: usize = 256;

#[derive(Debug, Default)]
pub struct Element {
    /// The local name (`entry` for `<atom:entry>`).
    pub name: String,
    /// Attributes by local name, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// The element's own text (not its children's), entities resolved.
    pub text: String,
    pub children: Vec<Element>,
    /// Byte offset of the `<` that starts the element.
    pub offset: usize,
}

/// Why a document is not well-formed XML, and where (byte offset).
#[derive(Debug)]
pub struct XmlError {
    pub offset: usize,
    pub message: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child of that name; `None` when absent
    /// or blank.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// Every element named `name` below this one, in document order, not
    /// looking inside a match.
    pub fn descendants_named<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut found = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(e) = stack.pop() {
            if e.name == name {
                found.push(e);
            } else {
                stack.extend(e.children.iter().rev());
            }
        }
        found
    }
}

/// Parses a document into a synthetic root (named `""`) whose children are
/// the top-level elements (one, in a well-formed document).
pub fn parse(src: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(src);
    let config = reader.config_mut();
    config.trim_text(false);
    config.expand_empty_elements = false;
    // arXiv text sometimes has a bare `&`; keep it as text.
    config.allow_dangling_amp = true;

    let mut stack = vec![Element::default()];
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| XmlError {
            offset: usize::try_from(reader.error_position()).unwrap_or(0),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                if stack.len() > MAX_DEPTH {
                    return Err(XmlError {
                        offset,
                        message: "elements nested too deeply".into(),
                    });
                }
                stack.push(element(&start, offset)?);
            }
            Event::Empty(start) => {
                let e = element(&start, offset)?;
                push_child(&mut stack, e);
            }
            Event::End(_) => {
                // quick-xml checks that end names match their starts.
                if stack.len() > 1
                    && let Some(done) = stack.pop()
                {
                    push_child(&mut stack, done);
                }
            }
            Event::Text(t) => append(&mut stack, &t.xml10_content()),
            Event::CData(t) => append(&mut stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved: Cow<'_, str> = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string().into(),
                        _ => format!("&{};", &*r).into(),
                    }
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r) {
                    s.into()
                } else {
                    // An entity we cannot know (`&nbsp;` without a DTD): keep it.
                    format!("&{};", &*r).into()
                };
                append(&mut stack, &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if stack.len() > 1 {
        let open = stack
            .last()
            .map(|e| (e.name.clone(), e.offset))
            .unwrap_or_default();
        return Err(XmlError {
            offset: open.1,
            message: format!("element <{}> is never closed", open.0),
        });
    }
    Ok(stack.pop().unwrap_or_default())
}

fn element(start: &BytesStart<'_>, offset: usize) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError {
            offset,
            message: format!("bad attribute: {e}"),
        })?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .unwrap_or_else(|_| attr.value.clone())
            .into_owned();
        attrs.push((attr.key.local_name().into_inner().to_string(), value));
    }
    Ok(Element {
        name: start.local_name().into_inner().to_string(),
        attrs,
        text: String::new(),
        children: Vec::new(),
        offset,
    })
}

fn push_child(stack: &mut [Element], child: Element) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(child);
    }
}

fn append(stack: &mut [Element], text: &str) {
    if let Some(e) = stack.last_mut() {
        e.text.push_str(text);
    }
}

/// Parses a whole document whose top element must be `root`, returning that
/// element and the line index for problem locations. `format` names the
/// document in errors ("OAI-PMH response").
pub fn parse_document(
    bytes: &[u8],
    format: &'static str,
    root: &str,
) -> Result<(Element, LineIndex), ImportError> {
    let src = decode(bytes);
    let lines = LineIndex::new(&src);
    let mut document = parse(&src).map_err(|e| ImportError::Malformed {
        format,
        location: Location::Line(lines.line(e.offset)),
        message: e.message,
    })?;
    let Some(top) = document.children.iter().position(|c| c.name == root) else {
        return Err(ImportError::Malformed {
            format,
            location: Location::Document,
            message: format!("no <{root}> element"),
        });
    };
    Ok((document.children.swap_remove(top), lines))
}

/// 1-based line numbers of byte offsets.
pub struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        LineIndex {
            newlines: src
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    pub fn line(&self, offset: usize) -> u64 {
        self.newlines.partition_point(|&nl| nl < offset) as u64 + 1
    }
}

/// The document as text: a UTF-8 BOM dropped, invalid UTF-8 replaced (the
/// sources are UTF-8; a stray byte should cost one character, not the file).
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_tree_with_local_names_and_resolved_text() {
        let src = "<?xml version='1.0'?>\n<a:feed xmlns:a='x'>\n <a:entry k='v&amp;w'>A &amp; B &#233; &nbsp; <![CDATA[<c>]]></a:entry>\n<e/></a:feed>";
        let root = parse(src).expect("well-formed");
        let feed = root.child("feed").expect("feed");
        let entry = feed.child("entry").expect("entry");
        assert_eq!(entry.attr("k"), Some("v&w"));
        assert_eq!(entry.text, "A & B é &nbsp; <c>");
        assert_eq!(LineIndex::new(src).line(entry.offset), 3);
        assert!(feed.child("e").is_some());
        assert_eq!(root.descendants_named("entry").len(), 1);
    }

    #[test]
    fn reports_where_it_breaks() {
        let src = "<a>\n<b>\n</c></a>";
        let err = parse(src).expect_err("mismatched");
        assert_eq!(LineIndex::new(src).line(err.offset), 3, "{}", err.message);
        assert!(parse("<a><b></b>").is_err());
        assert!(parse(&"<a>".repeat(1000)).is_err());
    }
}
