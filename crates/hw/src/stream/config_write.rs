//! The registered config port of the depthwise engine and the pointwise stage.
//!
//! A stage's config port (`cfg_valid`, `cfg_addr`, `cfg_data`; one write per cycle, no
//! handshake; `cfg_addr[31:24]` region, `cfg_addr[23:0]` index) is decoded over two edges so
//! that no check starts at the port's pins (for Fmax):
//!
//! - **Edge 1** registers the presented write together with the stage's verdict on its address
//!   and data alone (`ok`, computed by the stage from `in_region`, `in_index` and `cfg_data`).
//! - **Edge 2**: the stage checks the registered write (`valid`, `region`, `index`, `data`,
//!   `data_ok`) against its state (busy, START's conditions); the write takes effect on this
//!   edge, so `error`, `busy` and the layer registers show it two edges after it was presented.
//!
//! Only what edge 2 needs is registered (on the UP5K the whole 64-bit port register did not
//! fit): the region's low 3 bits, the index's low `index_bits` bits and the data. An address
//! with a set bit outside those (region ≥ 8, a larger index) gets a false verdict here, so an
//! accepted write's registered address is exact. A write presented with `drop` is not
//! registered (the depthwise engine drops a write in its reset cycle).

use rust_hdl::prelude::*;

/// The two-edge config port; see the module docs.
#[derive(LogicBlock)]
pub struct ConfigWrite {
    pub clock: Signal<In, Clock>,
    pub cfg_valid: Signal<In, Bit>,
    pub cfg_addr: Signal<In, Bits<32>>,
    pub cfg_data: Signal<In, Bits<32>>,
    /// Do not register the presented write.
    pub drop: Signal<In, Bit>,
    /// The stage's verdict on the presented write from `in_region`, `in_index`, `cfg_data`.
    pub ok: Signal<In, Bit>,
    /// The presented write's region and index (index cut to `index_bits`), for `ok`.
    pub in_region: Signal<Out, Bits<8>>,
    pub in_index: Signal<Out, Bits<24>>,
    /// The range checks both stages apply to a presented value, for `ok`: `cfg_data` is an
    /// int8 (−128..=127), a requantizer shift (−31..=30). Bit tests, no 32-bit comparators.
    pub in_int8: Signal<Out, Bit>,
    pub in_shift: Signal<Out, Bit>,
    /// The registered write (edge 2): `data_ok` = `ok` and the address fits the kept bits.
    pub valid: Signal<Out, Bit>,
    pub region: Signal<Out, Bits<8>>,
    pub index: Signal<Out, Bits<24>>,
    pub data: Signal<Out, Bits<32>>,
    pub data_ok: Signal<Out, Bit>,
    r_valid: DFF<Bit>,
    r_region: DFF<Bits<8>>,
    r_index: DFF<Bits<24>>,
    r_data: DFF<Bits<32>>,
    r_ok: DFF<Bit>,
    /// Kept index bits and the address bits above them (region bits 7..3, index bits ≥ kept).
    index_mask: Constant<Bits<24>>,
    addr_over: Constant<Bits<32>>,
    fits: Signal<Local, Bit>,
    /// All ones over the bits above an int8 (31..7) and above a 6-bit shift (31..5).
    int8_hi: Constant<Bits<25>>,
    shift_hi: Constant<Bits<27>>,
}

impl ConfigWrite {
    /// A port keeping `index_bits` (1..=24) of the index.
    pub fn new(index_bits: usize) -> Self {
        let index_bits = index_bits.clamp(1, 24);
        let mask = (1u64 << index_bits) - 1;
        Self {
            clock: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            drop: Default::default(),
            ok: Default::default(),
            in_region: Default::default(),
            in_index: Default::default(),
            in_int8: Default::default(),
            in_shift: Default::default(),
            valid: Default::default(),
            region: Default::default(),
            index: Default::default(),
            data: Default::default(),
            data_ok: Default::default(),
            r_valid: Default::default(),
            r_region: Default::default(),
            r_index: Default::default(),
            r_data: Default::default(),
            r_ok: Default::default(),
            index_mask: Constant::new(mask.into()),
            addr_over: Constant::new(((0xF800_0000u64) | (0x00FF_FFFF & !mask)).into()),
            fits: Default::default(),
            int8_hi: Constant::new(((1u64 << 25) - 1).into()),
            shift_hi: Constant::new(((1u64 << 27) - 1).into()),
        }
    }
}

impl Logic for ConfigWrite {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r_valid, r_region, r_index, r_data, r_ok);
        self.in_region.next = self.cfg_addr.val().get_bits::<8>(24);
        self.in_index.next = self.cfg_addr.val().get_bits::<24>(0) & self.index_mask.val();
        self.fits.next = !(self.cfg_addr.val() & self.addr_over.val()).any();
        // int8: bits 31..7 all equal. Shift −31..=30: bits 31..5 all equal, except −32 and 31.
        self.in_int8.next = !self.cfg_data.val().get_bits::<25>(7).any()
            || (self.cfg_data.val().get_bits::<25>(7) == self.int8_hi.val());
        self.in_shift.next = (!self.cfg_data.val().get_bits::<27>(5).any()
            && (self.cfg_data.val().get_bits::<5>(0) != 31))
            || ((self.cfg_data.val().get_bits::<27>(5) == self.shift_hi.val())
                && self.cfg_data.val().get_bits::<5>(0).any());
        self.r_valid.d.next = self.cfg_valid.val() && !self.drop.val();
        // The masks leave constant-zero flip-flops, which synthesis removes.
        self.r_region.d.next = self.cfg_addr.val().get_bits::<8>(24) & 7;
        self.r_index.d.next = self.in_index.val();
        self.r_data.d.next = self.cfg_data.val();
        self.r_ok.d.next = self.ok.val() && self.fits.val();
        self.valid.next = self.r_valid.q.val();
        self.region.next = self.r_region.q.val();
        self.index.next = self.r_index.q.val();
        self.data.next = self.r_data.q.val();
        self.data_ok.next = self.r_ok.q.val();
    }
}

/// The naive definition: what edge 2 sees after each edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigWriteModel {
    pub valid: bool,
    pub region: u8,
    pub index: u32,
    pub data: u32,
    pub data_ok: bool,
}

impl ConfigWriteModel {
    /// One edge with this write presented, for a port keeping `index_bits` index bits.
    pub fn edge(&mut self, index_bits: usize, valid: bool, addr: u32, data: u32, drop: bool, ok: bool) {
        let region = addr >> 24;
        let index = addr & 0xFF_FFFF;
        let fits = region < 8 && index >> index_bits.clamp(1, 24) == 0;
        *self = Self {
            valid: valid && !drop,
            region: (region & 7) as u8,
            index: index & ((1 << index_bits.clamp(1, 24)) - 1),
            data,
            data_ok: ok && fits,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{iverilog_compile, lint, require_tool, verilog_of, yosys_stat, Target};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn tick(u: &mut ConfigWrite) {
        u.clock.next = Clock::from(true);
        assert!(simulate(u, 100));
        u.clock.next = Clock::from(false);
        assert!(simulate(u, 100));
    }

    /// Random writes (addresses near and beyond the kept bits, drops, verdicts): the block's
    /// registered outputs equal the model's after every edge, and `in_*` decode the input.
    #[test]
    fn matches_the_model() {
        for index_bits in [1usize, 4, 5, 9, 24] {
            let mut u = ConfigWrite::new(index_bits);
            u.connect_all();
            u.clock.next = Clock::from(false);
            assert!(simulate(&mut u, 100));
            let mut m = ConfigWriteModel::default();
            let mut rng = ChaCha8Rng::seed_from_u64(index_bits as u64);
            for _ in 0..2000 {
                let region: u32 = if rng.gen_bool(0.8) { rng.gen_range(0..6) } else { rng.gen_range(0..256) };
                let index: u32 = match rng.gen_range(0..3) {
                    0 => rng.gen_range(0..16),
                    1 => rng.gen_range(0..(2u32 << index_bits.min(23))),
                    _ => rng.gen_range(0..1 << 24),
                };
                let data: u32 = if rng.gen_bool(0.5) { rng.gen_range(-200i32..200) as u32 } else { rng.gen() };
                let addr = (region << 24) | index;
                let (valid, drop, ok) = (rng.gen_bool(0.7), rng.gen_bool(0.1), rng.gen_bool(0.8));
                u.cfg_valid.next = valid;
                u.cfg_addr.next = (addr as u64).into();
                u.cfg_data.next = (data as u64).into();
                u.drop.next = drop;
                u.ok.next = ok;
                assert!(simulate(&mut u, 100));
                assert_eq!(u.in_region.val().to_u32(), region);
                assert_eq!(u.in_index.val().to_u32(), index & ((1 << index_bits) - 1));
                assert_eq!(u.in_int8.val(), i8::try_from(data as i32).is_ok(), "data {data:#x}");
                assert_eq!(u.in_shift.val(), (-31..=30).contains(&(data as i32)), "data {data:#x}");
                tick(&mut u);
                m.edge(index_bits, valid, addr, data, drop, ok);
                let got = ConfigWriteModel {
                    valid: u.valid.val(),
                    region: u.region.val().to_u8(),
                    index: u.index.val().to_u32(),
                    data: u.data.val().to_u32(),
                    data_ok: u.data_ok.val(),
                };
                assert_eq!(got, m, "addr {addr:#x} index_bits {index_bits}");
            }
        }
    }

    /// Lint-clean, compiles in Icarus, and registers only valid + verdict + 3 region bits +
    /// the kept index bits + 32 data bits.
    #[test]
    fn verilog_checks() {
        let v = verilog_of(&mut ConfigWrite::new(5));
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
        if require_tool("yosys") {
            let s = yosys_stat(&v, "top", Target::Ice40).unwrap();
            eprintln!("ConfigWrite(5) {s}");
            assert_eq!(s.latches(), 0, "{s}");
            assert_eq!(s.ffs(), 2 + 3 + 5 + 32, "{s}");
        }
    }
}
