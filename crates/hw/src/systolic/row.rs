//! One row of [`WsCell`]s: activations and flags enter on the left and pass right; the
//! weights and partial sums of all `C` columns pass through as buses (`8C` and `ACC·C` bits,
//! column `c` in field `c`), so the array indexes rows only (DESIGN §5).

use super::cell::WsCell;
use super::zext::ZeroExtend;
use rust_hdl::prelude::*;

/// A row of `C` cells; `WW = 8C`, `PW = ACC·C`.
#[derive(LogicBlock)]
pub struct ArrayRow<const ACC: usize, const WW: usize, const PW: usize> {
    pub clock: Signal<In, Clock>,
    pub a_in: Signal<In, Bits<8>>,
    pub sw_in: Signal<In, Bit>,
    pub cap_in: Signal<In, Bit>,
    pub w_in: Signal<In, Bits<WW>>,
    pub psum_in: Signal<In, Bits<PW>>,
    pub w_out: Signal<Out, Bits<WW>>,
    pub psum_out: Signal<Out, Bits<PW>>,
    ws_cells: Vec<WsCell<ACC>>,
    w_ext: Vec<ZeroExtend<8, WW>>,
    p_ext: Vec<ZeroExtend<ACC, PW>>,
    w_pack: Vec<Signal<Local, Bits<WW>>>,
    p_pack: Vec<Signal<Local, Bits<PW>>>,
    acc_w: Constant<Bits<16>>,
    w_top: Constant<Bits<16>>,
    p_top: Constant<Bits<16>>,
}

impl<const ACC: usize, const WW: usize, const PW: usize> ArrayRow<ACC, WW, PW> {
    /// A row of `cols` cells (`WW = 8·cols`, `PW = ACC·cols`, checked by the array).
    pub fn new(cols: usize) -> Self {
        Self {
            clock: Default::default(),
            a_in: Default::default(),
            sw_in: Default::default(),
            cap_in: Default::default(),
            w_in: Default::default(),
            psum_in: Default::default(),
            w_out: Default::default(),
            psum_out: Default::default(),
            ws_cells: (0..cols).map(|_| WsCell::default()).collect(),
            w_ext: (0..cols).map(|_| ZeroExtend::default()).collect(),
            p_ext: (0..cols).map(|_| ZeroExtend::default()).collect(),
            w_pack: (0..cols).map(|_| Default::default()).collect(),
            p_pack: (0..cols).map(|_| Default::default()).collect(),
            acc_w: Constant::new((ACC as u64).into()),
            w_top: Constant::new(((WW - 8) as u64).into()),
            p_top: Constant::new(((PW - ACC) as u64).into()),
        }
    }
}

impl<const ACC: usize, const WW: usize, const PW: usize> Logic for ArrayRow<ACC, WW, PW> {
    #[hdl_gen]
    fn update(&mut self) {
        for c in 0..self.ws_cells.len() {
            self.ws_cells[c].clock.next = self.clock.val();
            self.ws_cells[c].w_in.next = self.w_in.val().get_bits::<8>(8 * c);
            self.ws_cells[c].psum_in.next = self
                .psum_in
                .val()
                .get_bits::<ACC>(self.acc_w.val().index() * c);
            self.w_ext[c].a.next = self.ws_cells[c].w_out.val();
            self.p_ext[c].a.next = self.ws_cells[c].psum_out.val();
        }
        self.ws_cells[0].a_in.next = self.a_in.val();
        self.ws_cells[0].sw_in.next = self.sw_in.val();
        self.ws_cells[0].cap_in.next = self.cap_in.val();
        for c in 1..self.ws_cells.len() {
            self.ws_cells[c].a_in.next = self.ws_cells[c - 1].a_out.val();
            self.ws_cells[c].sw_in.next = self.ws_cells[c - 1].sw_out.val();
            self.ws_cells[c].cap_in.next = self.ws_cells[c - 1].cap_out.val();
        }
        // Pack: each step moves the fields so far down one slot and puts column c on top.
        self.w_pack[0].next = self.w_ext[0].y.val() << self.w_top.val();
        self.p_pack[0].next = self.p_ext[0].y.val() << self.p_top.val();
        for c in 1..self.ws_cells.len() {
            self.w_pack[c].next =
                (self.w_pack[c - 1].val() >> 8) | (self.w_ext[c].y.val() << self.w_top.val());
            self.p_pack[c].next = (self.p_pack[c - 1].val() >> self.acc_w.val())
                | (self.p_ext[c].y.val() << self.p_top.val());
        }
        self.w_out.next = self.w_pack[0].val();
        self.psum_out.next = self.p_pack[0].val();
        for c in 1..self.ws_cells.len() {
            self.w_out.next = self.w_pack[c].val();
            self.psum_out.next = self.p_pack[c].val();
        }
    }
}
