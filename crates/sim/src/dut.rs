//! One clocked-device interface over both simulators, so the same stream drivers, stall
//! patterns and checks run against Verilator and against rust-hdl's own simulator.

use crate::error::{Result, SimError};
use crate::model::{fit_words, Model, PortId};
use crate::ports::{Direction, Port};
use dsc_hw::stream::{StreamIn, StreamOut};
use rust_hdl::prelude::{bit_cast, simulate, Bits, Block, Clock, In, Out, Signal};

/// A clocked device under test with ports addressed by name. Values travel as `u128` (ports
/// of up to 128 bits) or as little-endian 32-bit words (any width).
pub trait Dut {
    fn port_id(&self, name: &str) -> Result<PortId>;
    /// Width in bits of a port.
    fn port_width(&self, id: PortId) -> Result<usize>;
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()>;
    fn get_id(&mut self, id: PortId) -> Result<u128>;
    fn set_words_id(&mut self, id: PortId, words: &[u32]) -> Result<()>;
    fn get_words_id(&mut self, id: PortId) -> Result<Vec<u32>>;
    /// One clock cycle (rising edge).
    fn tick(&mut self) -> Result<()>;
    fn cycles(&self) -> u64;
}

impl Dut for Model {
    fn port_id(&self, name: &str) -> Result<PortId> {
        Model::port_id(self, name)
    }
    fn port_width(&self, id: PortId) -> Result<usize> {
        self.ports()
            .get(id.0)
            .map(|p| p.width)
            .ok_or_else(|| bad_id(id))
    }
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()> {
        Model::set_id(self, id, value)
    }
    fn get_id(&mut self, id: PortId) -> Result<u128> {
        Model::get_id(self, id)
    }
    fn set_words_id(&mut self, id: PortId, words: &[u32]) -> Result<()> {
        Model::set_words_id(self, id, words)
    }
    fn get_words_id(&mut self, id: PortId) -> Result<Vec<u32>> {
        Model::get_words_id(self, id)
    }
    fn tick(&mut self) -> Result<()> {
        Model::try_tick(self)
    }
    fn cycles(&self) -> u64 {
        Model::cycles(self)
    }
}

fn bad_id(id: PortId) -> SimError {
    SimError::UnknownPort {
        port: format!("#{}", id.0),
        known: "(port ids come from port_id)".into(),
    }
}

type Setter<B> = Box<dyn Fn(&mut B, &[u32])>;
type Getter<B> = Box<dyn Fn(&B) -> Vec<u32>>;
type ClockSetter<B> = Box<dyn Fn(&mut B, bool)>;

struct HdlPort<B> {
    port: Port,
    set: Option<Setter<B>>,
    get: Getter<B>,
}

/// A rust-hdl block stepped cycle by cycle like a Verilator [`Model`]: inputs and outputs are
/// bound to names by closures (rust-hdl has no by-name write access), and `tick` settles the
/// circuit around one rising edge exactly as rust-hdl's `Simulation` does.
pub struct HdlDut<B: Block> {
    pub uut: B,
    clock: ClockSetter<B>,
    ports: Vec<HdlPort<B>>,
    cycles: u64,
    dirty: bool,
}

/// rust-hdl's own convergence limit in `Simulation`.
const MAX_SETTLE: usize = 100;

fn u128_words(v: u128, width: usize) -> Vec<u32> {
    (0..width.div_ceil(32).min(4)).map(|i| (v >> (32 * i)) as u32).collect()
}

fn words_u128(w: &[u32]) -> u128 {
    w.iter().take(4).enumerate().fold(0, |acc, (i, &x)| acc | (x as u128) << (32 * i))
}

impl<B: Block + 'static> HdlDut<B> {
    /// Wraps `uut` (connect_all is called here) with a clock setter, e.g.
    /// `|b, v| b.clock.next = v.into()`.
    pub fn new(mut uut: B, clock: impl Fn(&mut B, bool) + 'static) -> Self {
        uut.connect_all();
        HdlDut {
            uut,
            clock: Box::new(clock),
            ports: Vec::new(),
            cycles: 0,
            dirty: true,
        }
    }

    /// Wraps a block whose clock is the signal `clock` returns.
    pub fn clocked(uut: B, clock: fn(&mut B) -> &mut Signal<In, Clock>) -> Self {
        Self::new(uut, move |b, v| clock(b).next = Clock::from(v))
    }

    fn push(mut self, name: &str, direction: Direction, width: usize, set: Option<Setter<B>>, get: Getter<B>) -> Self {
        self.ports.push(HdlPort {
            port: Port {
                hdl_name: name.to_string(),
                name: name.to_string(),
                direction,
                width,
                clock: false,
            },
            set,
            get,
        });
        self
    }

    /// Binds an input port of up to 128 bits through `u128` closures.
    pub fn input(
        self,
        name: &str,
        width: usize,
        set: impl Fn(&mut B, u128) + 'static,
        get: impl Fn(&B) -> u128 + 'static,
    ) -> Self {
        self.push(
            name,
            Direction::Input,
            width,
            Some(Box::new(move |b, w| set(b, words_u128(w)))),
            Box::new(move |b| u128_words(get(b), width)),
        )
    }

    /// Binds an output port of up to 128 bits through a `u128` closure.
    pub fn output(self, name: &str, width: usize, get: impl Fn(&B) -> u128 + 'static) -> Self {
        self.push(name, Direction::Output, width, None, Box::new(move |b| u128_words(get(b), width)))
    }

    /// Binds a `Bits<N>` input signal (any width).
    pub fn input_bits<const N: usize>(
        self,
        name: &str,
        get: fn(&B) -> &Signal<In, Bits<N>>,
        get_mut: fn(&mut B) -> &mut Signal<In, Bits<N>>,
    ) -> Self {
        self.push(
            name,
            Direction::Input,
            N,
            Some(Box::new(move |b, w| get_mut(b).next = words_to_bits::<N>(w))),
            Box::new(move |b| bits_to_words(get(b).val())),
        )
    }

    /// Binds a `Bits<N>` output signal (any width).
    pub fn output_bits<const N: usize>(self, name: &str, get: fn(&B) -> &Signal<Out, Bits<N>>) -> Self {
        self.push(name, Direction::Output, N, None, Box::new(move |b| bits_to_words(get(b).val())))
    }

    /// Binds the four signals of a dsc-hw input stream as `<name>_tdata` etc.
    pub fn stream_in<const D: usize>(
        self,
        name: &str,
        get: fn(&B) -> &StreamIn<D>,
        get_mut: fn(&mut B) -> &mut StreamIn<D>,
    ) -> Self {
        self.push(
            &format!("{name}_tdata"),
            Direction::Input,
            D,
            Some(Box::new(move |b, w| get_mut(b).tdata.next = words_to_bits::<D>(w))),
            Box::new(move |b| bits_to_words(get(b).tdata.val())),
        )
        .input(
            &format!("{name}_tvalid"),
            1,
            move |b, v| get_mut(b).tvalid.next = v != 0,
            move |b| get(b).tvalid.val() as u128,
        )
        .input(
            &format!("{name}_tlast"),
            1,
            move |b, v| get_mut(b).tlast.next = v != 0,
            move |b| get(b).tlast.val() as u128,
        )
        .output(&format!("{name}_tready"), 1, move |b| get(b).tready.val() as u128)
    }

    /// Binds the four signals of a dsc-hw output stream as `<name>_tdata` etc.
    pub fn stream_out<const D: usize>(
        self,
        name: &str,
        get: fn(&B) -> &StreamOut<D>,
        get_mut: fn(&mut B) -> &mut StreamOut<D>,
    ) -> Self {
        self.push(
            &format!("{name}_tdata"),
            Direction::Output,
            D,
            None,
            Box::new(move |b| bits_to_words(get(b).tdata.val())),
        )
        .output(&format!("{name}_tvalid"), 1, move |b| get(b).tvalid.val() as u128)
        .output(&format!("{name}_tlast"), 1, move |b| get(b).tlast.val() as u128)
        .input(
            &format!("{name}_tready"),
            1,
            move |b, v| get_mut(b).tready.next = v != 0,
            move |b| get(b).tready.val() as u128,
        )
    }

    fn port(&self, id: PortId) -> Result<&HdlPort<B>> {
        self.ports.get(id.0).ok_or_else(|| bad_id(id))
    }

    fn settle(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        if simulate(&mut self.uut, MAX_SETTLE) {
            Ok(())
        } else {
            Err(SimError::Stream {
                stream: "rust-hdl".into(),
                message: format!("circuit did not settle in {MAX_SETTLE} iterations"),
            })
        }
    }
}

impl<B: Block + 'static> Dut for HdlDut<B> {
    fn port_id(&self, name: &str) -> Result<PortId> {
        self.ports
            .iter()
            .position(|p| p.port.name == name)
            .map(PortId)
            .ok_or_else(|| SimError::UnknownPort {
                port: name.to_string(),
                known: self
                    .ports
                    .iter()
                    .map(|p| p.port.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
    fn port_width(&self, id: PortId) -> Result<usize> {
        Ok(self.port(id)?.port.width)
    }
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()> {
        let words = u128_words(value, 128);
        self.set_words_id(id, &words)
    }
    fn get_id(&mut self, id: PortId) -> Result<u128> {
        let p = &self.port(id)?.port;
        if p.width > 128 {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: format!("is {} bits wide: read it with get_words_id", p.width),
            });
        }
        Ok(words_u128(&self.get_words_id(id)?))
    }
    fn set_words_id(&mut self, id: PortId, words: &[u32]) -> Result<()> {
        let p = self.ports.get(id.0).ok_or_else(|| bad_id(id))?;
        let set = p.set.as_ref().ok_or_else(|| SimError::BadValue {
            port: p.port.name.clone(),
            message: "is an output and cannot be driven".into(),
        })?;
        let buf = fit_words(&p.port, words)?;
        set(&mut self.uut, &buf);
        self.dirty = true;
        Ok(())
    }
    fn get_words_id(&mut self, id: PortId) -> Result<Vec<u32>> {
        self.settle()?;
        let p = self.port(id)?;
        Ok((p.get)(&self.uut))
    }
    fn tick(&mut self) -> Result<()> {
        (self.clock)(&mut self.uut, false);
        self.dirty = true;
        self.settle()?;
        (self.clock)(&mut self.uut, true);
        self.dirty = true;
        self.settle()?;
        self.cycles += 1;
        Ok(())
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// Little-endian 32-bit words as rust-hdl `Bits<N>`; the caller has checked the width.
pub fn words_to_bits<const N: usize>(words: &[u32]) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for (i, &w) in words.iter().enumerate().take(N.div_ceil(32)) {
        if w != 0 {
            let mut wb = Bits::<N>::from(w as u64 & mask(N.min(32)));
            wb = wb << (32 * i) as u64;
            b = b | wb;
        }
    }
    b
}

fn mask(bits: usize) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// rust-hdl `Bits<N>` as little-endian 32-bit words (`ceil(N/32)` of them).
pub fn bits_to_words<const N: usize>(b: Bits<N>) -> Vec<u32> {
    if N <= 64 {
        let v = b.to_u64();
        return (0..N.div_ceil(32)).map(|i| (v >> (32 * i)) as u32).collect();
    }
    (0..N.div_ceil(32))
        .map(|i| bit_cast::<64, N>(b >> (32 * i) as u64).to_u64() as u32)
        .collect()
}
