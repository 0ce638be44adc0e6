//! ByteBridge: the board's byte protocol (see the [module docs](super)) to the engine's
//! config port and streams, and the engine's output beats back to bytes.
//!
//! **Receive side.** One byte per cycle at most from `rx`; `rx.tready` drops while the
//! bridge cannot take a byte: a beat waiting for the engine's `pixels.tready`, or a
//! response not yet sent. Argument bytes shift into a 64-bit register (little-endian: the
//! last byte lands on top). A WRITE's config-port pulse leaves from registers the cycle after
//! its last byte. PIXELS bytes shift into a beat register (lane 0 first, as the engine packs
//! lanes: lane `l` at bits `8l..`); a full beat is offered on `pixels` with `tlast` on the
//! command's last beat.
//!
//! **Transmit side.** An engine output beat is taken only when no byte is waiting to go out
//! and is sent as `P` bytes, lane 0 first; a response (two bytes) goes out between beats,
//! never inside one. `tx` carries bytes to the UART transmitter.
//!
//! **Flags.** `rx_overflow` and `rx_frame_error` pulses (from the receiver and its FIFO)
//! and a bad opcode set sticky flags; READ-STATUS reports and clears them. `reset` drops a
//! command being parsed, a partial beat, the bytes of a beat being sent, a pending response
//! and the flags.

//!
//! States (literals in `update`: rust-hdl emits a Rust `const` as an undeclared Verilog
//! identifier): 0 idle (next byte is an opcode), 1 argument bytes, 2 pixel bytes, 3 a beat
//! offered to the engine.

use crate::stream::{StreamIn, StreamOut};
use rust_hdl::prelude::*;

/// Opcode: WRITE `addr:u32 data:u32`.
pub const OP_WRITE: u8 = b'W';
/// Opcode: PIXELS `beats:u32`, then `beats·P` bytes.
pub const OP_PIXELS: u8 = b'P';
/// Opcode: READ-STATUS; answered with [`RESP_STATUS`] and the flags byte.
pub const OP_STATUS: u8 = b'S';
/// First byte of the status response.
pub const RESP_STATUS: u8 = b'S';
/// First byte of the bad-opcode response (the second is the opcode received).
pub const RESP_BAD_OPCODE: u8 = b'?';

/// Status flag bits (second byte of the status response).
pub mod flag {
    /// The engine runs a frame or has outputs in flight.
    pub const BUSY: u8 = 1 << 0;
    /// The engine refused a config write (sticky in the engine; clear with its clear-error
    /// write).
    pub const ENGINE_ERROR: u8 = 1 << 1;
    /// An input `tlast` disagreed with the frame geometry (the engine's, sticky since START).
    pub const LAST_ERROR: u8 = 1 << 2;
    /// A bad opcode was received (cleared by this read).
    pub const BAD_OPCODE: u8 = 1 << 3;
    /// A received byte was lost: the receive FIFO was full (cleared by this read).
    pub const RX_OVERFLOW: u8 = 1 << 4;
    /// A frame with a low stop bit was dropped (cleared by this read).
    pub const RX_FRAME_ERROR: u8 = 1 << 5;
}

/// The protocol engine for an engine whose beats are `BEAT = 8·P` bits.
#[derive(LogicBlock)]
pub struct ByteBridge<const BEAT: usize> {
    pub clock: Signal<In, Clock>,
    /// Synchronous: see the module docs.
    pub reset: Signal<In, Bit>,
    /// Received bytes.
    pub rx: StreamIn<8>,
    /// Bytes to send.
    pub tx: StreamOut<8>,
    /// Pulse: a received byte was lost before the bridge.
    pub rx_overflow: Signal<In, Bit>,
    /// Pulse: the receiver dropped a frame.
    pub rx_frame_error: Signal<In, Bit>,
    /// The engine's config port.
    pub cfg_valid: Signal<Out, Bit>,
    pub cfg_addr: Signal<Out, Bits<32>>,
    pub cfg_data: Signal<Out, Bits<32>>,
    /// Input beats to the engine.
    pub pixels: StreamOut<BEAT>,
    /// Output beats from the engine.
    pub results: StreamIn<BEAT>,
    pub engine_busy: Signal<In, Bit>,
    pub engine_error: Signal<In, Bit>,
    pub engine_last_error: Signal<In, Bit>,
    /// Any of the bridge's sticky flags (for an LED).
    pub error: Signal<Out, Bit>,
    state: DFF<Bits<2>>,
    pixels_op: DFF<Bit>,
    args: DFF<Bits<64>>,
    args_left: DFF<Bits<4>>,
    beats_left: DFF<Bits<32>>,
    beat: DFF<Bits<BEAT>>,
    lane: DFF<Bits<8>>,
    cfg_v: DFF<Bit>,
    cfg_a: DFF<Bits<32>>,
    cfg_d: DFF<Bits<32>>,
    resp: DFF<Bits<16>>,
    resp_left: DFF<Bits<2>>,
    out_beat: DFF<Bits<BEAT>>,
    out_left: DFF<Bits<8>>,
    bad_opcode: DFF<Bit>,
    overflow: DFF<Bit>,
    frame_error: DFF<Bit>,
    rx_fire: Signal<Local, Bit>,
    rx_byte: Signal<Local, Bits<8>>,
    args_next: Signal<Local, Bits<64>>,
    beat_count: Signal<Local, Bits<32>>,
    flags: Signal<Local, Bits<8>>,
    /// `tlast` has no meaning on the byte stream nor on the engine's output beats here (the
    /// host knows the frame's size).
    unused_rx_last: Signal<Local, Bit>,
    unused_results_last: Signal<Local, Bit>,
    last_lane: Constant<Bits<8>>,
    op_write: Constant<Bits<8>>,
    op_pixels: Constant<Bits<8>>,
    op_status: Constant<Bits<8>>,
    resp_status: Constant<Bits<8>>,
    resp_bad_opcode: Constant<Bits<8>>,
    lanes: Constant<Bits<8>>,
    top8: Constant<Bits<16>>,
}

impl<const BEAT: usize> ByteBridge<BEAT> {
    /// The bridge for `lanes` bytes per beat (`BEAT` must be `8·lanes`).
    pub fn new(lanes: usize) -> Result<Self, String> {
        if lanes == 0 || BEAT != 8 * lanes || lanes > 255 {
            return Err(format!(
                "ByteBridge: BEAT = {BEAT} must be 8 × lanes ({lanes}), 1 ≤ lanes ≤ 255"
            ));
        }
        Ok(Self {
            clock: Default::default(),
            reset: Default::default(),
            rx: Default::default(),
            tx: Default::default(),
            rx_overflow: Default::default(),
            rx_frame_error: Default::default(),
            cfg_valid: Default::default(),
            cfg_addr: Default::default(),
            cfg_data: Default::default(),
            pixels: Default::default(),
            results: Default::default(),
            engine_busy: Default::default(),
            engine_error: Default::default(),
            engine_last_error: Default::default(),
            error: Default::default(),
            state: Default::default(),
            pixels_op: Default::default(),
            args: Default::default(),
            args_left: Default::default(),
            beats_left: Default::default(),
            beat: Default::default(),
            lane: Default::default(),
            cfg_v: Default::default(),
            cfg_a: Default::default(),
            cfg_d: Default::default(),
            resp: Default::default(),
            resp_left: Default::default(),
            out_beat: Default::default(),
            out_left: Default::default(),
            bad_opcode: Default::default(),
            overflow: Default::default(),
            frame_error: Default::default(),
            rx_fire: Default::default(),
            rx_byte: Default::default(),
            args_next: Default::default(),
            beat_count: Default::default(),
            flags: Default::default(),
            unused_rx_last: Default::default(),
            unused_results_last: Default::default(),
            last_lane: Constant::new(((lanes - 1) as u64).into()),
            op_write: Constant::new((OP_WRITE as u64).into()),
            op_pixels: Constant::new((OP_PIXELS as u64).into()),
            op_status: Constant::new((OP_STATUS as u64).into()),
            resp_status: Constant::new((RESP_STATUS as u64).into()),
            resp_bad_opcode: Constant::new((RESP_BAD_OPCODE as u64).into()),
            lanes: Constant::new((lanes as u64).into()),
            top8: Constant::new(((BEAT - 8) as u64).into()),
        })
    }
}

impl<const BEAT: usize> Logic for ByteBridge<BEAT> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            state,
            pixels_op,
            args,
            args_left,
            beats_left,
            beat,
            lane,
            cfg_v,
            cfg_a,
            cfg_d,
            resp,
            resp_left,
            out_beat,
            out_left,
            bad_opcode,
            overflow,
            frame_error
        );
        self.unused_rx_last.next = self.rx.tlast.val();
        self.unused_results_last.next = self.results.tlast.val();
        self.rx_byte.next = self.rx.tdata.val();
        self.args_next.next =
            (self.args.q.val() >> 8) | (bit_cast::<64, 8>(self.rx.tdata.val()) << 56);
        self.beat_count.next = self.args_next.val().get_bits::<32>(32);
        self.flags.next = bit_cast::<8, 1>(self.engine_busy.val().into())
            | (bit_cast::<8, 1>(self.engine_error.val().into()) << 1)
            | (bit_cast::<8, 1>(self.engine_last_error.val().into()) << 2)
            | (bit_cast::<8, 1>(self.bad_opcode.q.val().into()) << 3)
            | (bit_cast::<8, 1>(self.overflow.q.val().into()) << 4)
            | (bit_cast::<8, 1>(self.frame_error.q.val().into()) << 5);
        // ---- Receive side.
        self.rx.tready.next = ((self.state.q.val() == 0) && (self.resp_left.q.val() == 0))
            || (self.state.q.val() == 1)
            || (self.state.q.val() == 2);
        self.rx_fire.next = self.rx.tvalid.val() && self.rx.tready.val();
        self.cfg_v.d.next = false;
        self.pixels.tvalid.next = self.state.q.val() == 3;
        self.pixels.tdata.next = self.beat.q.val();
        self.pixels.tlast.next = self.beats_left.q.val() == 1;
        if self.rx_overflow.val() {
            self.overflow.d.next = true;
        }
        if self.rx_frame_error.val() {
            self.frame_error.d.next = true;
        }
        if self.rx_fire.val() {
            if self.state.q.val() == 0 {
                if self.rx_byte.val() == self.op_write.val() {
                    self.state.d.next = 1.into();
                    self.pixels_op.d.next = false;
                    self.args_left.d.next = 8.into();
                } else if self.rx_byte.val() == self.op_pixels.val() {
                    self.state.d.next = 1.into();
                    self.pixels_op.d.next = true;
                    self.args_left.d.next = 4.into();
                } else if self.rx_byte.val() == self.op_status.val() {
                    self.resp.d.next = (bit_cast::<16, 8>(self.flags.val()) << 8)
                        | bit_cast::<16, 8>(self.resp_status.val());
                    self.resp_left.d.next = 2.into();
                    self.bad_opcode.d.next = false;
                    self.overflow.d.next = self.rx_overflow.val();
                    self.frame_error.d.next = self.rx_frame_error.val();
                } else {
                    self.resp.d.next = (bit_cast::<16, 8>(self.rx_byte.val()) << 8)
                        | bit_cast::<16, 8>(self.resp_bad_opcode.val());
                    self.resp_left.d.next = 2.into();
                    self.bad_opcode.d.next = true;
                }
            }
            if self.state.q.val() == 1 {
                self.args.d.next = self.args_next.val();
                self.args_left.d.next = self.args_left.q.val() - 1;
                if self.args_left.q.val() == 1 {
                    self.state.d.next = 0.into();
                    if self.pixels_op.q.val() {
                        self.beats_left.d.next = self.beat_count.val();
                        self.lane.d.next = 0.into();
                        if self.beat_count.val() != 0 {
                            self.state.d.next = 2.into();
                        }
                    } else {
                        self.cfg_v.d.next = true;
                        self.cfg_a.d.next = self.args_next.val().get_bits::<32>(0);
                        self.cfg_d.d.next = self.args_next.val().get_bits::<32>(32);
                    }
                }
            }
            if self.state.q.val() == 2 {
                self.beat.d.next = (self.beat.q.val() >> 8)
                    | (bit_cast::<BEAT, 8>(self.rx_byte.val()) << self.top8.val());
                self.lane.d.next = self.lane.q.val() + 1;
                if self.lane.q.val() == self.last_lane.val() {
                    self.lane.d.next = 0.into();
                    self.state.d.next = 3.into();
                }
            }
        }
        if (self.state.q.val() == 3) && self.pixels.tready.val() {
            self.beats_left.d.next = self.beats_left.q.val() - 1;
            if self.beats_left.q.val() == 1 {
                self.state.d.next = 0.into();
            } else {
                self.state.d.next = 2.into();
            }
        }
        self.cfg_valid.next = self.cfg_v.q.val();
        self.cfg_addr.next = self.cfg_a.q.val();
        self.cfg_data.next = self.cfg_d.q.val();
        // ---- Transmit side: the bytes of a beat, else a response, one byte at a time.
        self.tx.tlast.next = false;
        self.tx.tvalid.next = (self.out_left.q.val() != 0) || (self.resp_left.q.val() != 0);
        if self.out_left.q.val() != 0 {
            self.tx.tdata.next = self.out_beat.q.val().get_bits::<8>(0);
        } else {
            self.tx.tdata.next = self.resp.q.val().get_bits::<8>(0);
        }
        if self.tx.tready.val() {
            if self.out_left.q.val() != 0 {
                self.out_beat.d.next = self.out_beat.q.val() >> 8;
                self.out_left.d.next = self.out_left.q.val() - 1;
            } else if self.resp_left.q.val() != 0 {
                self.resp.d.next = self.resp.q.val() >> 8;
                self.resp_left.d.next = self.resp_left.q.val() - 1;
            }
        }
        self.results.tready.next = (self.out_left.q.val() == 0) && (self.resp_left.q.val() == 0);
        if self.results.tvalid.val() && self.results.tready.val() {
            self.out_beat.d.next = self.results.tdata.val();
            self.out_left.d.next = self.lanes.val();
        }
        self.error.next =
            self.bad_opcode.q.val() || self.overflow.q.val() || self.frame_error.q.val();
        if self.reset.val() {
            self.state.d.next = 0.into();
            self.lane.d.next = 0.into();
            self.cfg_v.d.next = false;
            self.resp_left.d.next = 0.into();
            self.out_left.d.next = 0.into();
            self.bad_opcode.d.next = false;
            self.overflow.d.next = false;
            self.frame_error.d.next = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::testbench::tick;
    use crate::board::{pixels_command, write_command};
    use crate::verify::{lint, require_tool, verilog_of};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two lanes: 16-bit beats.
    type Uut = ByteBridge<16>;

    #[derive(Default, Debug)]
    struct Seen {
        writes: Vec<(u32, u32)>,
        beats: Vec<(u16, bool)>,
        tx: Vec<u8>,
    }

    /// Runs the bridge with `rx` bytes offered (gaps with probability `1 − p`), `results`
    /// beats offered by the engine side, `pixels` and `tx` ready with probability `p`, and an
    /// `rx_overflow` pulse in cycle `overflow_at`; stops `quiet` cycles after the last event.
    fn run(
        rx: &[u8],
        results: &[u16],
        p: f64,
        seed: u64,
        busy: bool,
        overflow_at: Option<usize>,
    ) -> Seen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uut = Uut::new(2).unwrap();
        uut.connect_all();
        uut.engine_busy.next = busy;
        let mut seen = Seen::default();
        let (mut next_rx, mut next_res) = (0, 0);
        let (mut offer_rx, mut offer_res) = (false, false);
        let mut idle = 0;
        for cycle in 0..200_000 {
            if !offer_rx && next_rx < rx.len() {
                offer_rx = rng.gen_bool(p);
            }
            if !offer_res && next_res < results.len() {
                offer_res = rng.gen_bool(p);
            }
            uut.rx.tvalid.next = offer_rx;
            uut.rx.tdata.next = (*rx.get(next_rx).unwrap_or(&0) as u64).into();
            uut.rx.tlast.next = false;
            uut.results.tvalid.next = offer_res;
            uut.results.tdata.next = (*results.get(next_res).unwrap_or(&0) as u64).into();
            uut.results.tlast.next = false;
            uut.pixels.tready.next = rng.gen_bool(p);
            uut.tx.tready.next = rng.gen_bool(p);
            uut.rx_overflow.next = overflow_at == Some(cycle);
            uut.rx_frame_error.next = false;
            uut.reset.next = false;
            let (rx_fire, res_fire, w, b, t) = tick(
                &mut uut,
                |u| &mut u.clock,
                |u| {
                    (
                        u.rx.tvalid.val() && u.rx.tready.val(),
                        u.results.tvalid.val() && u.results.tready.val(),
                        u.cfg_valid.val().then(|| {
                            (
                                u.cfg_addr.val().to_u64() as u32,
                                u.cfg_data.val().to_u64() as u32,
                            )
                        }),
                        (u.pixels.tvalid.val() && u.pixels.tready.val())
                            .then(|| (u.pixels.tdata.val().to_u64() as u16, u.pixels.tlast.val())),
                        (u.tx.tvalid.val() && u.tx.tready.val())
                            .then(|| u.tx.tdata.val().to_u64() as u8),
                    )
                },
            );
            if rx_fire {
                next_rx += 1;
                offer_rx = false;
            }
            if res_fire {
                next_res += 1;
                offer_res = false;
            }
            let event = rx_fire || res_fire || w.is_some() || b.is_some() || t.is_some();
            seen.writes.extend(w);
            seen.beats.extend(b);
            seen.tx.extend(t);
            idle = if event { 0 } else { idle + 1 };
            if idle > 200 && next_rx == rx.len() && next_res == results.len() {
                break;
            }
        }
        seen
    }

    /// WRITE and PIXELS commands under random stalls on both sides: exactly the writes, and
    /// the beats (lane 0 in the low byte) with `tlast` on each command's last beat; no byte
    /// goes back.
    #[test]
    fn writes_and_pixels_under_stalls() {
        let mut rng = ChaCha8Rng::seed_from_u64(0xB41D);
        for case in 0..12 {
            let mut rx = Vec::new();
            let (mut writes, mut beats) = (Vec::new(), Vec::new());
            for _ in 0..4 {
                let (a, d): (u32, u32) = (rng.gen(), rng.gen());
                rx.extend(write_command(a, d));
                writes.push((a, d));
                let n = rng.gen_range(0..6);
                let bytes: Vec<u8> = (0..2 * n).map(|_| rng.gen()).collect();
                rx.extend(pixels_command(2, &bytes).unwrap());
                for (k, pair) in bytes.chunks(2).enumerate() {
                    beats.push((u16::from_le_bytes([pair[0], pair[1]]), k + 1 == n));
                }
            }
            let p = [1.0, 0.5, 0.2][case % 3];
            let seen = run(&rx, &[], p, case as u64, false, None);
            assert_eq!(seen.writes, writes, "case {case}");
            assert_eq!(seen.beats, beats, "case {case}");
            assert!(seen.tx.is_empty(), "case {case}: {:?}", seen.tx);
        }
    }

    /// Engine output beats become their bytes, lane 0 first, under random stalls.
    #[test]
    fn results_become_bytes_under_stalls() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x7E5);
        for (case, p) in [1.0, 0.6, 0.3].into_iter().enumerate() {
            let results: Vec<u16> = (0..40).map(|_| rng.gen()).collect();
            let seen = run(&[], &results, p, case as u64, false, None);
            let bytes: Vec<u8> = results.iter().flat_map(|r| r.to_le_bytes()).collect();
            assert_eq!(seen.tx, bytes, "p {p}");
        }
    }

    /// READ-STATUS reports the engine's busy flag and the bridge's sticky flags and clears
    /// the latter; a bad opcode gets `'?'` and the opcode, writes nothing and is reported
    /// once; a lost byte is reported once.
    #[test]
    fn status_bad_opcode_and_overflow() {
        let rx = [OP_STATUS, 0x00, OP_STATUS, OP_STATUS, 0xFF, b'w', OP_STATUS];
        let seen = run(&rx, &[], 1.0, 1, true, None);
        let busy = flag::BUSY;
        let bad = flag::BAD_OPCODE;
        assert_eq!(
            seen.tx,
            [
                b'S',
                busy,
                b'?',
                0x00,
                b'S',
                busy | bad,
                b'S',
                busy,
                b'?',
                0xFF,
                b'?',
                b'w',
                b'S',
                busy | bad
            ]
        );
        assert!(seen.writes.is_empty() && seen.beats.is_empty());
        // An overflow pulse in the cycle of a read is kept for the next read; then cleared.
        let seen = run(
            &[OP_STATUS, OP_STATUS, OP_STATUS],
            &[],
            1.0,
            2,
            false,
            Some(0),
        );
        assert_eq!(seen.tx, [b'S', 0, b'S', flag::RX_OVERFLOW, b'S', 0]);
    }

    /// A response waits for the beat being sent: bytes of one beat are never split.
    #[test]
    fn responses_go_between_beats() {
        for seed in 0..6 {
            let results: Vec<u16> = (0..12).map(|i| 0x0101 * (i + 1)).collect();
            let seen = run(
                &[OP_STATUS, OP_STATUS, OP_STATUS],
                &results,
                0.5,
                seed,
                false,
                None,
            );
            assert_eq!(seen.tx.len(), 2 * 12 + 6);
            let mut i = 0;
            let mut beats = Vec::new();
            while i < seen.tx.len() {
                if seen.tx[i] == b'S' {
                    assert_eq!(seen.tx[i + 1], 0, "seed {seed}");
                } else {
                    assert_eq!(
                        seen.tx[i],
                        seen.tx[i + 1],
                        "seed {seed}: a beat split at {i}: {:?}",
                        seen.tx
                    );
                    beats.push(seen.tx[i]);
                }
                i += 2;
            }
            assert_eq!(beats, (1..=12).collect::<Vec<u8>>());
        }
    }

    #[test]
    fn rejects_a_beat_width_that_is_not_8_per_lane() {
        assert!(ByteBridge::<16>::new(3).is_err());
        assert!(ByteBridge::<16>::new(0).is_err());
    }

    #[test]
    fn verilog_lints() {
        if require_tool("verilator") {
            lint(&verilog_of(&mut Uut::new(2).unwrap()), "top").unwrap();
        }
    }
}
