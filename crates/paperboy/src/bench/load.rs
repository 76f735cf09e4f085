//! A small HTTP load generator for the web benches: `connections` threads,
//! each with one keep-alive HTTP/1.1 connection over plain TCP, asking for
//! one path over and over (the next request as soon as the last answer is
//! read), with every request's latency kept.
//!
//! It runs on the same machine as the server it measures, so its figures
//! are a lower bound of what the server alone could do.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How hard and how long to load a path.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Keep-alive connections, one thread each.
    pub connections: usize,
    /// Loaded but not counted first (connections set up, caches warm).
    pub warmup: Duration,
    /// Then counted for this long.
    pub measure: Duration,
}

/// What a [`Load`] measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Latency of each request answered in the measured window, in
    /// microseconds, sorted.
    latencies_us: Vec<u32>,
    /// The measured window's length.
    elapsed: Duration,
}

impl LoadResult {
    pub fn requests(&self) -> usize {
        self.latencies_us.len()
    }

    pub fn per_sec(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0.5: the median; 1.0: the slowest).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// Requests `GET path` from `addr` on `load.connections` connections: a
/// warm-up, then the measured window. Every answer must be a 200 with a
/// `Content-Length` (bodies are read and dropped); anything else fails the
/// run.
pub fn hammer(addr: SocketAddr, path: &str, load: Load) -> anyhow::Result<LoadResult> {
    if load.connections == 0 {
        bail!("a load needs at least one connection");
    }
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let workers: Vec<_> = (0..load.connections)
        .map(|_| {
            let phase = Arc::clone(&phase);
            let path = path.to_string();
            std::thread::spawn(move || {
                let result = client(addr, &path, &phase);
                if result.is_err() {
                    // One broken connection ends the run for all.
                    phase.store(STOP, Ordering::Relaxed);
                }
                result
            })
        })
        .collect();
    std::thread::sleep(load.warmup);
    phase
        .compare_exchange(WARMUP, MEASURE, Ordering::Relaxed, Ordering::Relaxed)
        .ok();
    let started = Instant::now();
    std::thread::sleep(load.measure);
    phase.store(STOP, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut latencies_us = Vec::new();
    let mut failure = None;
    for worker in workers {
        match worker.join() {
            Ok(Ok(mine)) => latencies_us.extend(mine),
            Ok(Err(error)) => failure = failure.or(Some(error)),
            Err(_) => failure = failure.or(Some(anyhow::anyhow!("a load thread panicked"))),
        }
    }
    if let Some(error) = failure {
        return Err(error.context(format!("loading http://{addr}{path}")));
    }
    latencies_us.sort_unstable();
    Ok(LoadResult {
        latencies_us,
        elapsed,
    })
}

/// One `GET path` on a fresh connection: the answer's body.
pub fn fetch(addr: SocketAddr, path: &str) -> anyhow::Result<Vec<u8>> {
    let mut connection = Connection::open(addr, path)?;
    let mut body = Vec::new();
    connection.request(&mut body)?;
    Ok(body)
}

/// One load thread: requests until the phase is [`STOP`]; the latencies of
/// the answers that came in the [`MEASURE`] phase.
fn client(addr: SocketAddr, path: &str, phase: &AtomicU8) -> anyhow::Result<Vec<u32>> {
    let mut connection = Connection::open(addr, path)?;
    let mut latencies = Vec::new();
    let mut body = Vec::new();
    loop {
        let now = phase.load(Ordering::Relaxed);
        if now == STOP {
            return Ok(latencies);
        }
        let started = Instant::now();
        connection.request(&mut body)?;
        if phase.load(Ordering::Relaxed) == MEASURE {
            let micros = started.elapsed().as_micros();
            latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
        }
    }
}

/// A keep-alive connection asking for one path.
struct Connection {
    write: TcpStream,
    read: BufReader<TcpStream>,
    request: Vec<u8>,
    line: String,
}

impl Connection {
    fn open(addr: SocketAddr, path: &str) -> anyhow::Result<Connection> {
        let stream =
            TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        // A server that stops answering fails the bench instead of hanging it.
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Connection {
            write: stream.try_clone()?,
            read: BufReader::new(stream),
            request: format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").into_bytes(),
            line: String::new(),
        })
    }

    /// Sends the request and reads the whole answer, its body into `body`.
    fn request(&mut self, body: &mut Vec<u8>) -> anyhow::Result<()> {
        self.write.write_all(&self.request)?;
        let mut length = None;
        let mut first = true;
        loop {
            self.line.clear();
            if self.read.read_line(&mut self.line)? == 0 {
                bail!("the server closed the connection");
            }
            if first {
                if !self.line.starts_with("HTTP/1.1 200") {
                    bail!("answered {}", self.line.trim_end());
                }
                first = false;
            }
            if self.line == "\r\n" {
                break;
            }
            if let Some((name, value)) = self.line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.context("an answer without Content-Length")?;
        body.resize(length, 0);
        self.read.read_exact(body)?;
        Ok(())
    }
}
