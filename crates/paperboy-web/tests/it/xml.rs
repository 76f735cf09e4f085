//! A strict little XML tree for checking feeds: quick-xml checks
//! well-formedness (matching end tags, entities), this keeps what the
//! tests look at.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
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

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the child `name`, failing the test when it is missing.
    #[track_caller]
    pub fn text_of(&self, name: &str) -> &str {
        &self
            .child(name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
            .text
    }
}

/// Parses a whole document (declaration, one root element) or fails with
/// what is wrong.
pub fn parse(src: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(src);
    reader.config_mut().trim_text(false);
    let mut stack = vec![Element::default()];
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) => stack.push(element(&start)?),
            Event::Empty(start) => {
                let e = element(&start)?;
                stack.last_mut().ok_or("no parent")?.children.push(e);
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced end tag")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .ok_or("text outside")?
                .text
                .push_str(&t.xml10_content()),
            Event::CData(t) => stack
                .last_mut()
                .ok_or("text outside")?
                .text
                .push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| e.to_string())?
                        .ok_or("bad char ref")?
                        .to_string()
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| format!("undefined entity &{};", &*r))?
                        .to_string()
                };
                stack
                    .last_mut()
                    .ok_or("text outside")?
                    .text
                    .push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(_) => return Err("unexpected DOCTYPE".into()),
        }
    }
    if stack.len() != 1 {
        return Err("an element is never closed".into());
    }
    let root = stack.pop().unwrap_or_default();
    let mut elements = root.children.into_iter();
    let first = elements.next().ok_or("no root element")?;
    if elements.next().is_some() {
        return Err("more than one root element".into());
    }
    if !root.text.trim().is_empty() {
        return Err("text outside the root element".into());
    }
    Ok(first)
}

fn element(start: &BytesStart<'_>) -> Result<Element, String> {
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        attrs.push((attr.key.0.to_string(), value));
    }
    Ok(Element {
        name: start.name().0.to_string(),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}
