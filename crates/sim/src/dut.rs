//! One clocked-device interface over both simulators, so the same stream drivers, stall
//! patterns and checks run against Verilator and against rust-hdl's own simulator.

use crate::error::{Result, SimError};
use crate::model::{Model, PortId};
use dsc_hw::stream::{StreamIn, StreamOut};
use rust_hdl::prelude::{simulate, Bits, Block, Clock, In, Out, Signal};

/// A clocked device under test with ports addressed by name, values of up to 128 bits.
pub trait Dut {
    fn port_id(&self, name: &str) -> Result<PortId>;
    fn has_port(&self, name: &str) -> bool {
        self.port_id(name).is_ok()
    }
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()>;
    fn get_id(&mut self, id: PortId) -> Result<u128>;
    /// One clock cycle (rising edge).
    fn tick(&mut self) -> Result<()>;
    fn cycles(&self) -> u64;
}

impl Dut for Model {
    fn port_id(&self, name: &str) -> Result<PortId> {
        Model::port_id(self, name)
    }
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()> {
        Model::set_id(self, id, value)
    }
    fn get_id(&mut self, id: PortId) -> Result<u128> {
        Model::get_id(self, id)
    }
    fn tick(&mut self) -> Result<()> {
        Model::tick(self);
        Ok(())
    }
    fn cycles(&self) -> u64 {
        Model::cycles(self)
    }
}

type Setter<B> = Box<dyn Fn(&mut B, u128)>;
type Getter<B> = Box<dyn Fn(&B) -> u128>;

struct HdlPort<B> {
    name: String,
    width: usize,
    set: Option<Setter<B>>,
    get: Getter<B>,
}

/// A rust-hdl block stepped cycle by cycle like a Verilator [`Model`]: inputs and outputs are
/// bound to names by closures (rust-hdl has no by-name write access), and `tick` settles the
/// circuit around one rising edge exactly as rust-hdl's `Simulation` does.
pub struct HdlDut<B: Block> {
    pub uut: B,
    clock: Box<dyn Fn(&mut B, bool)>,
    ports: Vec<HdlPort<B>>,
    cycles: u64,
    dirty: bool,
}

/// rust-hdl's own convergence limit in `Simulation`.
const MAX_SETTLE: usize = 100;

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

    /// Binds a `Bits<N>` input signal.
    pub fn input_bits<const N: usize>(
        self,
        name: &str,
        get: fn(&B) -> &Signal<In, Bits<N>>,
        get_mut: fn(&mut B) -> &mut Signal<In, Bits<N>>,
    ) -> Self {
        self.input(
            name,
            N,
            move |b, v| get_mut(b).next = u128_to_bits::<N>(v),
            move |b| get(b).val().to_u128(),
        )
    }

    /// Binds a `Bits<N>` output signal.
    pub fn output_bits<const N: usize>(self, name: &str, get: fn(&B) -> &Signal<Out, Bits<N>>) -> Self {
        self.output(name, N, move |b| get(b).val().to_u128())
    }

    /// Binds the four signals of a dsc-hw input stream as `<name>_tdata` etc.
    pub fn stream_in<const D: usize>(
        self,
        name: &str,
        get: fn(&B) -> &StreamIn<D>,
        get_mut: fn(&mut B) -> &mut StreamIn<D>,
    ) -> Self {
        self.input(
            &format!("{name}_tdata"),
            D,
            move |b, v| get_mut(b).tdata.next = u128_to_bits::<D>(v),
            move |b| get(b).tdata.val().to_u128(),
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
        self.output(&format!("{name}_tdata"), D, move |b| get(b).tdata.val().to_u128())
            .output(&format!("{name}_tvalid"), 1, move |b| get(b).tvalid.val() as u128)
            .output(&format!("{name}_tlast"), 1, move |b| get(b).tlast.val() as u128)
            .input(
                &format!("{name}_tready"),
                1,
                move |b, v| get_mut(b).tready.next = v != 0,
                move |b| get(b).tready.val() as u128,
            )
    }

    /// Binds an input port.
    pub fn input(
        mut self,
        name: &str,
        width: usize,
        set: impl Fn(&mut B, u128) + 'static,
        get: impl Fn(&B) -> u128 + 'static,
    ) -> Self {
        self.ports.push(HdlPort {
            name: name.to_string(),
            width,
            set: Some(Box::new(set)),
            get: Box::new(get),
        });
        self
    }

    /// Binds an output port.
    pub fn output(mut self, name: &str, width: usize, get: impl Fn(&B) -> u128 + 'static) -> Self {
        self.ports.push(HdlPort {
            name: name.to_string(),
            width,
            set: None,
            get: Box::new(get),
        });
        self
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
            .position(|p| p.name == name)
            .map(PortId)
            .ok_or_else(|| SimError::UnknownPort {
                port: name.to_string(),
                known: self
                    .ports
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
    fn set_id(&mut self, id: PortId, value: u128) -> Result<()> {
        let p = self.ports.get(id.0).ok_or_else(|| SimError::UnknownPort {
            port: format!("#{}", id.0),
            known: String::new(),
        })?;
        let set = p.set.as_ref().ok_or_else(|| SimError::BadValue {
            port: p.name.clone(),
            message: "is an output and cannot be driven".into(),
        })?;
        if p.width < 128 && value >> p.width != 0 {
            return Err(SimError::BadValue {
                port: p.name.clone(),
                message: format!("value {value:#x} does not fit in {} bits", p.width),
            });
        }
        set(&mut self.uut, value);
        self.dirty = true;
        Ok(())
    }
    fn get_id(&mut self, id: PortId) -> Result<u128> {
        self.settle()?;
        let p = self.ports.get(id.0).ok_or_else(|| SimError::UnknownPort {
            port: format!("#{}", id.0),
            known: String::new(),
        })?;
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

/// A `u128` as rust-hdl `Bits<N>` (bits above 128 are zero).
pub fn u128_to_bits<const N: usize>(v: u128) -> Bits<N> {
    let mut b = Bits::<N>::from(v as u64);
    for i in 64..N.min(128) {
        if (v >> i) & 1 == 1 {
            b = b.replace_bit(i, true);
        }
    }
    b
}
