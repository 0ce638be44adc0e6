//! The engines' config/weight-load port (`cfg_valid`, `cfg_addr`, `cfg_data`): one write per cycle.
//!
//! Every dsc-hw engine exposes the same write interface; its register map is documented beside
//! each block (`dsc_hw::depthwise`, `dsc_hw::pointwise`). This drives it on a Verilated model.

use crate::{Model, Result};

/// One config write: `cfg_valid` high with `addr`/`data` for one clock edge, then low again.
pub fn write(m: &mut Model, addr: u32, data: u32) -> Result<()> {
    m.set("cfg_valid", 1)?;
    m.set("cfg_addr", u64::from(addr))?;
    m.set("cfg_data", u64::from(data))?;
    m.tick();
    m.set("cfg_valid", 0)
}

/// Clock edges from a write being presented to its effect on `error`, `busy` and the layer
/// registers: the engines register the port before decoding it (for Fmax).
pub const WRITE_LATENCY: u64 = 2;

/// One write, then the edges until its effect shows (`cfg_valid` low meanwhile): afterwards
/// `error` and `busy` tell whether it was refused and whether it started a layer.
pub fn write_settled(m: &mut Model, addr: u32, data: u32) -> Result<()> {
    write(m, addr, data)?;
    settle(m);
    Ok(())
}

/// Idle edges until the last write's effect shows (`cfg_valid` must already be low).
pub fn settle(m: &mut Model) {
    for _ in 1..WRITE_LATENCY {
        m.tick();
    }
}
