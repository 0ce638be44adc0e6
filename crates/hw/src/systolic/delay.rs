//! A delay line of a run-time length (`0` = a wire), built at generation time.
//!
//! The array's edge skews are triangles: row `r` waits `r` cycles, column `c` waits `c`. Each
//! line is its own block so the array indexes only one level deep (DESIGN §5).

use rust_hdl::prelude::*;

/// `out(t) = inp(t − len)`.
#[derive(LogicBlock)]
pub struct DelayLine<T: Synth> {
    pub clock: Signal<In, Clock>,
    pub inp: Signal<In, T>,
    pub out: Signal<Out, T>,
    regs: Vec<DFF<T>>,
    taps: Vec<Signal<Local, T>>,
}

impl<T: Synth> DelayLine<T> {
    /// A line of `len` registers.
    pub fn new(len: usize) -> Self {
        Self {
            clock: Default::default(),
            inp: Default::default(),
            out: Default::default(),
            regs: (0..len).map(|_| Default::default()).collect(),
            taps: (0..=len).map(|_| Default::default()).collect(),
        }
    }
}

impl<T: Synth> Logic for DelayLine<T> {
    #[hdl_gen]
    fn update(&mut self) {
        self.taps[0].next = self.inp.val();
        for i in 0..self.regs.len() {
            self.regs[i].clock.next = self.clock.val();
            self.regs[i].d.next = self.taps[i].val();
            self.taps[i + 1].next = self.regs[i].q.val();
        }
        self.out.next = self.inp.val();
        for i in 0..self.taps.len() {
            self.out.next = self.taps[i].val();
        }
    }
}
