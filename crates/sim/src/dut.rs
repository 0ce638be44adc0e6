//! One clocked-device interface over both simulators, so the same stream drivers, stall
//! patterns and checks run against Verilator and against rust-hdl's own simulator.

use crate::error::{Result, SimError};
use crate::model::{Model, PortId};
use rust_hdl::prelude::{simulate, Block};

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
}

/// rust-hdl's own convergence limit in `Simulation`.
const MAX_SETTLE: usize = 100;

impl<B: Block> HdlDut<B> {
    /// Wraps `uut` (connect_all is called here) with a clock setter, e.g.
    /// `|b, v| b.clock.next = v.into()`.
    pub fn new(mut uut: B, clock: impl Fn(&mut B, bool) + 'static) -> Self {
        uut.connect_all();
        HdlDut {
            uut,
            clock: Box::new(clock),
            ports: Vec::new(),
            cycles: 0,
        }
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

impl<B: Block> Dut for HdlDut<B> {
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
        self.settle()?;
        (self.clock)(&mut self.uut, true);
        self.settle()?;
        self.cycles += 1;
        Ok(())
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}
