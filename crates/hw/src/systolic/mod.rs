//! SystolicArray: `R × C` weight-stationary int8 MAC cells, strictly systolic — activations
//! and flags move one cell right, weights and partial sums one cell down per cycle, always
//! through a register; the only fan-out is the clock.
//!
//! **Why weight-stationary.** A pointwise layer is `Y[p][n] = Σ_m W[n][m]·X[p][m]` with `M, N`
//! up to 1024 and 49…12 544 pixels. Cell `(r, c)` holds `W[j·C + c][i·R + r]` of one
//! (M-tile `i`, N-tile `j`); the pixels of a block stream through the rows and each column
//! sums `R` products on the way down. Compared with output-stationary (pixel tile × N-tile
//! accumulators, weights *and* pixels streamed every cycle):
//! * *utilization on small maps*: a tile lasts as many cycles as the block has pixels, any
//!   count, so the 7×7 = 49-pixel layers use every cycle; an output-stationary 8-pixel tile
//!   leaves 7 of 56 rows idle there (87.5%).
//! * *fill/drain overlap*: weights are double-buffered in each cell (shadow + active), so the
//!   next tile's weights shift in during the current tile and a tile change costs no cycle;
//!   partial sums leave at the bottom continuously (no drain phase through the accumulators,
//!   which in this PE would block the column for `R` cycles per tile).
//! * *weight bandwidth*: `C` bytes per cycle during `R` of every `B ≥ R` cycles (one weight
//!   per cell per tile), against `C` bytes every cycle for output-stationary.
//! * *buffers*: the stage keeps a block of `B` pixels (`B·M` bytes, reused for every
//!   N-tile) and `B·C` partial sums; both are small block RAMs.
//!
//! **Interface (aligned; the skews are inside, at the edges).** All inputs for one cycle are
//! presented together; the array delays row `r` by `r + 1`, column `c`'s weights by `c + 1`, and so on:
//! * `a_in`: byte `r` = the activation for row `r` (`X[p][i·R + r]`), one pixel per cycle;
//! * `sw_in`: high with the first pixel of a tile — from that pixel on, the cells use the
//!   weights loaded last;
//! * `cap_in`, `w_in`: weight load. `cap_in` high in cycle `T0` and `w_in` byte `c` =
//!   `W[j·C + c][i·R + r]` in cycle `T0 + r`, `r = 0..R` (row 0 first). Allowed when
//!   `S_prev ≤ T0 ≤ S − R` (`S_prev`, `S`: cycles of the first pixels of the current and the
//!   next tile), so tiles of `B ≥ R` pixels run back to back.
//! * `psum_out`: field `c` (`ACC` bits) = `Σ_r W·X` of column `c` for the pixel presented
//!   [`SystolicArray::latency`] `= R + C + 3` cycles earlier (`dsc_model::systolic::ws_column_sums`).
//!
//! Top partial sums are zero; the pointwise stage adds M-tiles outside the array.

mod cell;
mod delay;
mod row;
mod zext;

pub use cell::WsCell;
pub use delay::DelayLine;
pub use row::ArrayRow;
pub use zext::ZeroExtend;

use dsc_model::systolic::{Dataflow, SystolicConfig};
use dsc_model::ModelError;
use rust_hdl::prelude::*;

/// The array; `AW = 8R`, `WW = 8C`, `PW = ACC·C` (checked by [`SystolicArray::new`]).
#[derive(LogicBlock)]
pub struct SystolicArray<const ACC: usize, const AW: usize, const WW: usize, const PW: usize> {
    pub clock: Signal<In, Clock>,
    pub a_in: Signal<In, Bits<AW>>,
    pub sw_in: Signal<In, Bit>,
    pub cap_in: Signal<In, Bit>,
    pub w_in: Signal<In, Bits<WW>>,
    pub psum_out: Signal<Out, Bits<PW>>,
    ws_rows: Vec<ArrayRow<ACC, WW, PW>>,
    a_skew: Vec<DelayLine<Bits<8>>>,
    sw_skew: Vec<DelayLine<Bit>>,
    cap_skew: Vec<DelayLine<Bit>>,
    w_skew: Vec<DelayLine<Bits<8>>>,
    o_skew: Vec<DelayLine<Bits<ACC>>>,
    w_ext: Vec<ZeroExtend<8, WW>>,
    w_pack: Vec<Signal<Local, Bits<WW>>>,
    bottom: Signal<Local, Bits<PW>>,
    o_ext: Vec<ZeroExtend<ACC, PW>>,
    o_pack: Vec<Signal<Local, Bits<PW>>>,
    acc_w: Constant<Bits<16>>,
    w_top: Constant<Bits<16>>,
    p_top: Constant<Bits<16>>,
}

impl<const ACC: usize, const AW: usize, const WW: usize, const PW: usize>
    SystolicArray<ACC, AW, WW, PW>
{
    /// The array of `cfg` (weight-stationary, `ACC = acc_bits`, widths as above).
    pub fn new(cfg: &SystolicConfig) -> Result<Self, ModelError> {
        let (r, c) = (cfg.rows(), cfg.cols());
        let bad = |what: String| Err(ModelError::InvalidParameter(what));
        if cfg.dataflow() != Dataflow::WeightStationary {
            return bad(
                "SystolicArray is weight-stationary: config asks for another dataflow".into(),
            );
        }
        if cfg.acc_bits() != ACC || AW != 8 * r || WW != 8 * c || PW != ACC * c {
            return bad(format!(
                "SystolicArray<{ACC}, {AW}, {WW}, {PW}> does not fit a {r}×{c} config with {}-bit \
                 sums (need <{}, {}, {}, {}>)",
                cfg.acc_bits(),
                cfg.acc_bits(),
                8 * r,
                8 * c,
                cfg.acc_bits() * c
            ));
        }
        if !(17..=64).contains(&ACC) {
            return bad(format!("SystolicArray: {ACC}-bit sums, need 17..=64"));
        }
        Ok(Self {
            clock: Default::default(),
            a_in: Default::default(),
            sw_in: Default::default(),
            cap_in: Default::default(),
            w_in: Default::default(),
            psum_out: Default::default(),
            ws_rows: (0..r).map(|_| ArrayRow::new(c)).collect(),
            a_skew: (0..r).map(|k| DelayLine::new(k + 1)).collect(),
            sw_skew: (0..r).map(|k| DelayLine::new(k + 1)).collect(),
            cap_skew: (0..r).map(|k| DelayLine::new(2 * k + 1)).collect(),
            w_skew: (0..c).map(|k| DelayLine::new(k + 1)).collect(),
            o_skew: (0..c).map(|k| DelayLine::new(c - k)).collect(),
            w_ext: (0..c).map(|_| ZeroExtend::default()).collect(),
            w_pack: (0..c).map(|_| Default::default()).collect(),
            bottom: Default::default(),
            o_ext: (0..c).map(|_| ZeroExtend::default()).collect(),
            o_pack: (0..c).map(|_| Default::default()).collect(),
            acc_w: Constant::new((ACC as u64).into()),
            w_top: Constant::new(((WW - 8) as u64).into()),
            p_top: Constant::new(((PW - ACC) as u64).into()),
        })
    }

    /// Cycles from a pixel on `a_in` to its column sums on `psum_out`: `R + C + 3` (see
    /// `dsc_model::systolic::ws_array_latency`).
    pub fn latency(&self) -> usize {
        self.ws_rows.len() + self.w_skew.len() + 3
    }
}

impl<const ACC: usize, const AW: usize, const WW: usize, const PW: usize> Logic
    for SystolicArray<ACC, AW, WW, PW>
{
    #[hdl_gen]
    fn update(&mut self) {
        // Left edge: row r's activation and commit flag wait r cycles, its capture flag 2r.
        for r in 0..self.ws_rows.len() {
            self.ws_rows[r].clock.next = self.clock.val();
            self.a_skew[r].clock.next = self.clock.val();
            self.sw_skew[r].clock.next = self.clock.val();
            self.cap_skew[r].clock.next = self.clock.val();
            self.a_skew[r].inp.next = self.a_in.val().get_bits::<8>(8 * r);
            self.sw_skew[r].inp.next = self.sw_in.val();
            self.cap_skew[r].inp.next = self.cap_in.val();
            self.ws_rows[r].a_in.next = self.a_skew[r].out.val();
            self.ws_rows[r].sw_in.next = self.sw_skew[r].out.val();
            self.ws_rows[r].cap_in.next = self.cap_skew[r].out.val();
        }
        // Top edge: column c's weights wait c cycles; the sums start at zero.
        for c in 0..self.w_skew.len() {
            self.w_skew[c].clock.next = self.clock.val();
            self.w_skew[c].inp.next = self.w_in.val().get_bits::<8>(8 * c);
            self.w_ext[c].a.next = self.w_skew[c].out.val();
        }
        self.w_pack[0].next = self.w_ext[0].y.val() << self.w_top.val();
        for c in 1..self.w_pack.len() {
            self.w_pack[c].next =
                (self.w_pack[c - 1].val() >> 8) | (self.w_ext[c].y.val() << self.w_top.val());
        }
        self.ws_rows[0].w_in.next = self.w_pack[0].val();
        for c in 1..self.w_pack.len() {
            self.ws_rows[0].w_in.next = self.w_pack[c].val();
        }
        self.ws_rows[0].psum_in.next = 0.into();
        for r in 1..self.ws_rows.len() {
            self.ws_rows[r].w_in.next = self.ws_rows[r - 1].w_out.val();
            self.ws_rows[r].psum_in.next = self.ws_rows[r - 1].psum_out.val();
        }
        // Bottom edge: column c waits C − 1 − c cycles, so one pixel's sums leave together.
        self.bottom.next = self.ws_rows[0].psum_out.val();
        for r in 1..self.ws_rows.len() {
            self.bottom.next = self.ws_rows[r].psum_out.val();
        }
        for c in 0..self.o_skew.len() {
            self.o_skew[c].clock.next = self.clock.val();
            self.o_skew[c].inp.next = self
                .bottom
                .val()
                .get_bits::<ACC>(self.acc_w.val().index() * c);
            self.o_ext[c].a.next = self.o_skew[c].out.val();
        }
        self.o_pack[0].next = self.o_ext[0].y.val() << self.p_top.val();
        for c in 1..self.o_pack.len() {
            self.o_pack[c].next = (self.o_pack[c - 1].val() >> self.acc_w.val())
                | (self.o_ext[c].y.val() << self.p_top.val());
        }
        self.psum_out.next = self.o_pack[0].val();
        for c in 1..self.o_pack.len() {
            self.psum_out.next = self.o_pack[c].val();
        }
    }
}

#[cfg(test)]
mod tests;
