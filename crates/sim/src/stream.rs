//! AXI4-Stream driver (source) and monitor (sink) with seeded random stalls.
//!
//! Beats may be of any width (`tdata` wider than 128 bits goes as 32-bit words).
//! A stream named `s` is the port group `s_tdata`, `s_tvalid`, `s_tready` and optionally
//! `s_tlast` (clean names; rust-hdl's `s$tdata` becomes `s_tdata`). A beat moves on a rising
//! edge where `tvalid && tready`. The stall pattern is one random draw per cycle from a ChaCha
//! generator seeded by the caller, so it depends only on the seed and the cycle number: two
//! simulators of the same design see identical stalls.

use crate::dut::Dut;
use crate::error::{Result, SimError};
use crate::model::PortId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// One transfer: data of any width and the `tlast` flag. Data is kept as little-endian 32-bit
/// words with high zero words trimmed, so a beat compares equal however wide the port is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Beat {
    words: Vec<u32>,
    pub last: bool,
}

impl Beat {
    /// A beat of up to 128 bits.
    pub fn new(data: u128, last: bool) -> Beat {
        Beat::from_words(&[data as u32, (data >> 32) as u32, (data >> 64) as u32, (data >> 96) as u32], last)
    }

    /// A beat of any width from little-endian 32-bit words.
    pub fn from_words(words: &[u32], last: bool) -> Beat {
        let len = words.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
        Beat {
            words: words[..len].to_vec(),
            last,
        }
    }

    /// The data as little-endian 32-bit words (high zero words trimmed).
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// The data as a `u128`, or `None` when it does not fit.
    pub fn value(&self) -> Option<u128> {
        if self.words.len() > 4 {
            return None;
        }
        Some(
            self.words
                .iter()
                .enumerate()
                .fold(0, |acc, (i, &w)| acc | (w as u128) << (32 * i)),
        )
    }
}

/// A beat seen by a sink, with the cycle (0-based, counted by the DUT) of its handshake.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Received {
    pub cycle: u64,
    pub beat: Beat,
}

struct Ports {
    tdata: PortId,
    tvalid: PortId,
    tready: PortId,
    tlast: Option<PortId>,
}

fn stream_ports(dut: &impl Dut, name: &str) -> Result<Ports> {
    let get = |suffix: &str| {
        dut.port_id(&format!("{name}_{suffix}")).map_err(|e| SimError::Stream {
            stream: name.to_string(),
            message: format!("missing `{name}_{suffix}`: {e}"),
        })
    };
    Ok(Ports {
        tdata: get("tdata")?,
        tvalid: get("tvalid")?,
        tready: get("tready")?,
        tlast: dut.port_id(&format!("{name}_tlast")).ok(),
    })
}

fn check_probability(stream: &str, p: f64) -> Result<()> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(SimError::Stream {
            stream: stream.to_string(),
            message: format!("stall probability {p} must be in [0, 1)"),
        })
    }
}

/// Drives a stream into the DUT: presents queued beats, holds a beat (and `tvalid`) until it is
/// accepted, and inserts random bubbles between beats with the given probability.
pub struct StreamSource {
    name: String,
    ports: Ports,
    queue: VecDeque<Beat>,
    presenting: Option<Beat>,
    stall: f64,
    rng: ChaCha8Rng,
    sent: usize,
}

impl StreamSource {
    /// A source for stream `name` of `dut`; `stall` is the chance of a bubble in a cycle where
    /// the source has a new beat to offer.
    pub fn new(dut: &impl Dut, name: &str, stall: f64, seed: u64) -> Result<StreamSource> {
        check_probability(name, stall)?;
        Ok(StreamSource {
            name: name.to_string(),
            ports: stream_ports(dut, name)?,
            queue: VecDeque::new(),
            presenting: None,
            stall,
            rng: ChaCha8Rng::seed_from_u64(seed),
            sent: 0,
        })
    }

    pub fn push(&mut self, beat: Beat) {
        self.queue.push_back(beat);
    }

    pub fn extend(&mut self, beats: impl IntoIterator<Item = Beat>) {
        self.queue.extend(beats);
    }

    /// Beats accepted by the DUT so far.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// True when every queued beat has been accepted.
    pub fn is_done(&self) -> bool {
        self.queue.is_empty() && self.presenting.is_none()
    }

    /// Sets `tdata/tvalid/tlast` for the coming edge. Call before `sample` and `tick`.
    pub fn drive(&mut self, dut: &mut impl Dut) -> Result<()> {
        let bubble = self.rng.gen::<f64>() < self.stall;
        if self.presenting.is_none() && !bubble {
            self.presenting = self.queue.pop_front();
        }
        let (words, last): (&[u32], bool) = match &self.presenting {
            Some(b) => (&b.words, b.last),
            None => (&[], false),
        };
        dut.set_words_id(self.ports.tdata, words)
            .map_err(|e| SimError::Stream {
                stream: self.name.clone(),
                message: e.to_string(),
            })?;
        dut.set_id(self.ports.tvalid, self.presenting.is_some() as u128)?;
        if let Some(l) = self.ports.tlast {
            dut.set_id(l, last as u128)?;
        }
        Ok(())
    }

    /// Looks at `tready` before the edge; a presented beat that sees it is consumed by the edge.
    pub fn sample(&mut self, dut: &mut impl Dut) -> Result<()> {
        if self.presenting.is_some() && dut.get_id(self.ports.tready)? != 0 {
            self.presenting = None;
            self.sent += 1;
        }
        Ok(())
    }

}

/// Takes a stream out of the DUT: drives `tready` low with the given probability per cycle and
/// records every beat that moves.
pub struct StreamSink {
    name: String,
    ports: Ports,
    stall: f64,
    rng: ChaCha8Rng,
    ready: bool,
    received: Vec<Received>,
}

impl StreamSink {
    pub fn new(dut: &impl Dut, name: &str, stall: f64, seed: u64) -> Result<StreamSink> {
        check_probability(name, stall)?;
        Ok(StreamSink {
            name: name.to_string(),
            ports: stream_ports(dut, name)?,
            stall,
            rng: ChaCha8Rng::seed_from_u64(seed),
            ready: false,
            received: Vec::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets `tready` for the coming edge.
    pub fn drive(&mut self, dut: &mut impl Dut) -> Result<()> {
        self.ready = self.rng.gen::<f64>() >= self.stall;
        dut.set_id(self.ports.tready, self.ready as u128)
    }

    /// Records the beat that moves on the coming edge, if any.
    pub fn sample(&mut self, dut: &mut impl Dut) -> Result<()> {
        if self.ready && dut.get_id(self.ports.tvalid)? != 0 {
            let words = dut.get_words_id(self.ports.tdata)?;
            let last = match self.ports.tlast {
                Some(l) => dut.get_id(l)? != 0,
                None => false,
            };
            self.received.push(Received {
                cycle: dut.cycles(),
                beat: Beat::from_words(&words, last),
            });
        }
        Ok(())
    }

    pub fn received(&self) -> &[Received] {
        &self.received
    }

    pub fn beats(&self) -> Vec<Beat> {
        self.received.iter().map(|r| r.beat.clone()).collect()
    }
}

/// One cycle of a streaming testbench: every source and sink drives, then all sample (inputs
/// settled, before the edge), then the clock ticks.
pub fn step(
    dut: &mut impl Dut,
    sources: &mut [&mut StreamSource],
    sinks: &mut [&mut StreamSink],
) -> Result<()> {
    for s in sources.iter_mut() {
        s.drive(dut)?;
    }
    for s in sinks.iter_mut() {
        s.drive(dut)?;
    }
    for s in sources.iter_mut() {
        s.sample(dut)?;
    }
    for s in sinks.iter_mut() {
        s.sample(dut)?;
    }
    dut.tick()
}

/// Steps until `sink` has received `beats` beats, or fails after `max_cycles` cycles.
pub fn run_until(
    dut: &mut impl Dut,
    sources: &mut [&mut StreamSource],
    sink: &mut StreamSink,
    beats: usize,
    max_cycles: u64,
) -> Result<()> {
    let start = dut.cycles();
    while sink.received().len() < beats {
        if dut.cycles() - start >= max_cycles {
            return Err(SimError::Stream {
                stream: sink.name.clone(),
                message: format!(
                    "timeout: {} of {beats} beats after {max_cycles} cycles",
                    sink.received().len()
                ),
            });
        }
        step(dut, sources, &mut [&mut *sink])?;
    }
    Ok(())
}
