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
