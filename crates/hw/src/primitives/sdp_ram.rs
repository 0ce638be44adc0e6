//! Simple dual-port RAM: one write port, one registered read port with an enable, one clock.
//!
//! rust-hdl's own `RAM` widget maps to block RAM but yosys wraps it in read-during-write
//! emulation (~30 FFs + LUTs per RAM). This block's Verilog carries `(* no_rw_check *)` and a
//! single `always @(posedge clock)`, so yosys infers one SB_RAM40_4K / DP16KD cascade with no
//! extra logic. The price, in this default form: **never read and write the same address in
//! one cycle** — the hardware result is then undefined, while the Rust model returns the old
//! word (the write-first and late-write forms below define it).
//!
//! Contents start undefined in hardware; the Rust model starts at zero. Read only what was
//! written.
//!
//! **Read enable**: `read_data` takes the word at `read_address` on an edge with
//! `read_enable` high and holds otherwise (the block RAM's read clock enable: DP16KD CEB,
//! SB_RAM40_4K RCLKE). A consumer that advances only sometimes can then present the *next*
//! address every cycle and enable the read when it advances, instead of choosing between the
//! current and the next address with its advance signal — which would put that signal's
//! logic on the RAM's address pins. Callers that read every cycle tie it high.
//!
//! **Single-port mode** ([`SdpRam::single_port`]) for RAMs that are never read in a cycle
//! they are written (the config-written parameter RAMs): one address, the write address
//! while `write_enable` is high, else the read address; `read_data` holds during a write.
//! The Verilog marks the memory `ram_style = "huge"`, which yosys maps to the iCE40
//! UltraPlus' SB_SPRAM256KA (16K × 16 each; its read data also holds during a write), while
//! Verilator and Icarus simulate the same behavioural code.
//!
//! **Write-first mode** ([`SdpRam::write_first`]) for RAMs whose consumer reads the address it
//! writes on the same edge (a window row with one channel group): such a read returns the
//! word being written, in the Rust model and in hardware — `forward_data`, registered beside
//! the RAM, stands in for the RAM's output. Every collision is then defined.
//!
//! **Late writes** ([`SdpRam::with_late_write`]; for Fmax): the write is registered and done on
//! the next edge, so a RAM output feeding another RAM's write data (the window's line buffers
//! and history columns, 5.8 ns clock-to-out on the ECP5) ends at a flip-flop instead of running
//! into the second RAM in the same cycle. A read of the address still pending takes the
//! pending word (`forward_data`), so the consumer sees what it would without them and the Rust
//! model is the same; a read of the address written on its own edge is then defined in either
//! form: the old word, or the new one when write-first.
//!
//! **A read stage** ([`SdpRam::with_read_stage`]; for Fmax): the read takes two enabled edges.
//! The address presented on one edge with `read_enable` is read into the block RAM's output
//! register, which a plain flip-flop (`landed`, same enable) takes on the next one; nothing
//! but that flip-flop follows the block RAM (the ECP5's DP16KD, timed by nextpnr with a
//! 5.8 ns clock-to-out whatever its output register mode, leaves no time for a LUT after it
//! at 125 MHz). `read_data` after that second edge is what the form without the stage would
//! give for a read of that address **on the second edge** — its collision rule included — so
//! a consumer presents each address one read earlier and sees the same words. The stage
//! writes an edge late itself; writes to the address in flight (the two the block RAM missed,
//! those in between, and — write-first — the one on the second edge) are forwarded from
//! registers, found by comparing registered addresses only (`read_address` drives the block
//! RAM's address pins and one register, no comparator); no collision is undefined.

use rust_hdl::prelude::*;

/// Simple dual-port RAM of `2^ADDR` words of `DATA` bits; read data appears the cycle after
/// the read address (registered read).
#[derive(LogicBlock)]
pub struct SdpRam<const DATA: usize, const ADDR: usize> {
    pub clock: Signal<In, Clock>,
    pub write_enable: Signal<In, Bit>,
    pub write_address: Signal<In, Bits<ADDR>>,
    pub write_data: Signal<In, Bits<DATA>>,
    pub read_address: Signal<In, Bits<ADDR>>,
    /// Load `read_data` on this edge (else it holds).
    pub read_enable: Signal<In, Bit>,
    pub read_data: Signal<Out, Bits<DATA>>,
    /// Simulation contents (ignored by the HDL generator: leading underscore).
    _mem: Vec<Bits<DATA>>,
    /// Single-port mode (see the module docs).
    _single_port: bool,
    /// Write-first mode (see the module docs).
    _write_first: bool,
    /// Writes an edge late (see the module docs).
    _late_write: bool,
    /// Reads through a second register (see the module docs).
    _read_stage: bool,
    /// Model of the read stage: the address read on the last enabled edge.
    _flight: Bits<ADDR>,
}

impl<const DATA: usize, const ADDR: usize> SdpRam<DATA, ADDR> {
    /// Number of words.
    pub const DEPTH: usize = 1 << ADDR;

    /// The single-port form (see the module docs): never read in a cycle with a write.
    pub fn single_port() -> Self {
        Self { _single_port: true, ..Self::default() }
    }

    /// The write-first form (see the module docs): a read of the address written on the same
    /// edge returns the new word.
    pub fn write_first() -> Self {
        Self { _write_first: true, ..Self::default() }
    }

    /// The same RAM with its writes done an edge late from registers when `on` (see the
    /// module docs): same behaviour, more flip-flops, no RAM-to-RAM path. Not for the
    /// single-port form.
    pub fn with_late_write(mut self, on: bool) -> Self {
        assert!(!self._single_port, "SdpRam: the single-port form has no late writes");
        self._late_write = on;
        self
    }

    /// The same RAM read through a second register when `on` (see the module docs): each
    /// address is presented one enabled read earlier, the words and the collision rule are
    /// those of the form without it. The stage writes an edge late whatever
    /// [`SdpRam::with_late_write`] says. Not for the single-port form.
    pub fn with_read_stage(mut self, on: bool) -> Self {
        assert!(!self._single_port, "SdpRam: the single-port form has no read stage");
        self._read_stage = on;
        self
    }
}

impl<const DATA: usize, const ADDR: usize> Default for SdpRam<DATA, ADDR> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            write_enable: Default::default(),
            write_address: Default::default(),
            write_data: Default::default(),
            read_address: Default::default(),
            read_enable: Default::default(),
            read_data: Default::default(),
            _mem: vec![Bits::default(); 1 << ADDR],
            _single_port: false,
            _write_first: false,
            _late_write: false,
            _read_stage: false,
            _flight: Bits::default(),
        }
    }
}

/// The late write's registers and its `always` lines: the write of the last edge, done on
/// this one.
fn late_write_verilog(amsb: usize, msb: usize) -> (String, &'static str) {
    (
        format!(
            "\
// The write, done on the next edge (the RAM's write port is fed from registers).
reg write_pending;
reg [{amsb}:0] pending_address;
reg [{msb}:0] pending_data;
"
        ),
        "\
   write_pending <= write_enable;
   pending_address <= write_address;
   pending_data <= write_data;
   if (write_pending) begin
      mem[pending_address] <= pending_data;
   end
",
    )
}

impl<const DATA: usize, const ADDR: usize> SdpRam<DATA, ADDR> {
    /// The write-first and late-write body: the block RAM proper (`ram_data`; where it is read
    /// and written at one address on one edge, its word is not used), and `forward` /
    /// `forward_data`, which replace its output after a read of the address being written.
    fn forwarding_verilog(&self) -> String {
        let (msb, amsb, last) = (DATA - 1, ADDR - 1, (1usize << ADDR) - 1);
        let head = format!(
            "\
(* no_rw_check *)
reg [{msb}:0] mem [0:{last}];
reg [{msb}:0] ram_data;
// The last read's address was being written: its word is forward_data.
reg forward;
reg [{msb}:0] forward_data;
"
        );
        // With late writes, a read on a write's own edge: the new word when write-first, else
        // the RAM's (the write is not done yet).
        let collide = if self._write_first {
            "      \
      if (write_enable && write_address == read_address) begin
         forward <= 1'b1;
         forward_data <= write_data;
      end else begin
         forward <= write_pending && pending_address == read_address;
         forward_data <= pending_data;
      end
"
        } else {
            "      \
      forward <= write_pending && pending_address == read_address;
      forward_data <= pending_data;
"
        };
        let body = if self._late_write {
            let (late_regs, late_write) = late_write_verilog(amsb, msb);
            format!(
                "\
{late_regs}
always @(posedge clock) begin
{late_write}   if (read_enable) begin
      ram_data <= mem[read_address];
{collide}   end
end
"
            )
        } else {
            // Writes on the edge: only the write-first form gets here (`hdl` sends the default
            // form to the plain body).
            "\
always @(posedge clock) begin
   if (write_enable) begin
      mem[write_address] <= write_data;
   end
   if (read_enable) begin
      ram_data <= mem[read_address];
      forward <= write_enable && write_address == read_address;
      forward_data <= write_data;
   end
end
"
            .to_string()
        };
        format!("{head}{body}\nalways @(*) begin\n   read_data = forward ? forward_data : ram_data;\nend\n")
    }
}

impl<const DATA: usize, const ADDR: usize> SdpRam<DATA, ADDR> {
    /// The read-stage body: the block RAM read into `ram_data`, landed in `landed` on the next
    /// enabled edge. The writes are done an edge late from `pending_*`, and `older_*` keep the
    /// write before; `flight_*` follow the address in flight and the newest word written to it
    /// since the block RAM read it, `forward` / `forward_data` replace `landed` with it. Every
    /// address compare is between registers and the write address: `read_address` goes to
    /// the block RAM and `flight_address` only.
    fn read_stage_verilog(&self) -> String {
        let (msb, amsb, last) = (DATA - 1, ADDR - 1, (1usize << ADDR) - 1);
        let (late_regs, late_write) = late_write_verilog(amsb, msb);
        // The landing edge: a write on it reaches the word only when write-first.
        let land = if self._write_first {
            "\
      if (write_enable && write_address == flight_address) begin
         forward <= 1'b1;
         forward_data <= write_data;
      end else begin
         forward <= known;
         forward_data <= known_data;
      end
"
        } else {
            "\
      forward <= known;
      forward_data <= known_data;
"
        };
        format!(
            "\
(* no_rw_check *)
reg [{msb}:0] mem [0:{last}];
reg [{msb}:0] ram_data;
{late_regs}// The write before it.
reg older_pending;
reg [{amsb}:0] older_address;
reg [{msb}:0] older_data;
// The address in flight (read into ram_data; flight_new: on the last edge), and the newest
// word written to it since.
reg [{amsb}:0] flight_address;
reg flight_new;
reg flight_forward;
reg [{msb}:0] flight_data;
// The landed word: ram_data registered (nothing else after the block RAM), or its replacement.
reg [{msb}:0] landed;
reg forward;
reg [{msb}:0] forward_data;
// The newest word written to the address in flight before this edge. On the edge after the
// read, the block RAM missed the writes of the read's edge (pending) and of the edge before
// (older: done on the read's edge).
reg known;
reg [{msb}:0] known_data;

always @(*) begin
   if (flight_new && write_pending && pending_address == flight_address) begin
      known = 1'b1;
      known_data = pending_data;
   end else if (flight_new && older_pending && older_address == flight_address) begin
      known = 1'b1;
      known_data = older_data;
   end else begin
      known = flight_forward;
      known_data = flight_data;
   end
end

always @(posedge clock) begin
{late_write}   older_pending <= write_pending;
   older_address <= pending_address;
   older_data <= pending_data;
   if (read_enable) begin
      ram_data <= mem[read_address];
      landed <= ram_data;
{land}      flight_address <= read_address;
      flight_new <= 1'b1;
      flight_forward <= 1'b0;
   end else begin
      flight_new <= 1'b0;
      if (write_enable && write_address == flight_address) begin
         flight_forward <= 1'b1;
         flight_data <= write_data;
      end else begin
         flight_forward <= known;
         flight_data <= known_data;
      end
   end
end

always @(*) begin
   read_data = forward ? forward_data : landed;
end
"
        )
    }
}

impl<const DATA: usize, const ADDR: usize> Logic for SdpRam<DATA, ADDR> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self._single_port {
            // One port: a write cycle reads nothing, the output holds.
            if self.write_enable.val() {
                self._mem[self.write_address.val().index()] = self.write_data.val();
            } else if self.read_enable.val() {
                self.read_data.next = self._mem[self.read_address.val().index()];
            }
        } else if self.clock.pos_edge() {
            // Read first: the model returns the old word on a same-address collision — unless
            // write-first, which returns the new one.
            if self.read_enable.val() {
                // With the read stage, the word is that of the address presented on the last
                // enabled edge, read now.
                let address = if self._read_stage {
                    std::mem::replace(&mut self._flight, self.read_address.val())
                } else {
                    self.read_address.val()
                };
                self.read_data.next = if self._write_first
                    && self.write_enable.val()
                    && self.write_address.val() == address
                {
                    self.write_data.val()
                } else {
                    self._mem[address.index()]
                };
            }
            if self.write_enable.val() {
                self._mem[self.write_address.val().index()] = self.write_data.val();
            }
        }
    }

    fn connect(&mut self) {
        self.read_data.connect();
    }

    fn hdl(&self) -> Verilog {
        if self._single_port {
            return Verilog::Custom(format!(
                "\
(* ram_style = \"huge\" *)
reg [{msb}:0] mem [0:{last}];
wire [{amsb}:0] address = write_enable ? write_address : read_address;

always @(posedge clock) begin
   if (write_enable) begin
      mem[address] <= write_data;
   end else if (read_enable) begin
      read_data <= mem[address];
   end
end
",
                msb = DATA - 1,
                amsb = ADDR - 1,
                last = (1usize << ADDR) - 1
            ));
        }
        if self._read_stage {
            return Verilog::Custom(self.read_stage_verilog());
        }
        if self._write_first || self._late_write {
            return Verilog::Custom(self.forwarding_verilog());
        }
        Verilog::Custom(format!(
            "\
(* no_rw_check *)
reg [{msb}:0] mem [0:{last}];

always @(posedge clock) begin
   if (write_enable) begin
      mem[write_address] <= write_data;
   end
   if (read_enable) begin
      read_data <= mem[read_address];
   end
end
",
            msb = DATA - 1,
            last = (1usize << ADDR) - 1
        ))
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "sdp_ram".into(),
            clock: "clock".into(),
            inputs: vec![
                "write_enable".into(),
                "write_address".into(),
                "write_data".into(),
                "read_address".into(),
                "read_enable".into(),
            ],
            outputs: vec!["read_data".into()],
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{
        iverilog_compile, iverilog_run, lint, require_tool, verilog_of, yosys_stat, Target,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Random writes and reads (never the same address in one cycle), the read enabled 70% of
    /// the cycles, against a plain array and a held word.
    fn random_traffic<const D: usize, const A: usize>(seed: u64, cycles: usize) {
        let depth = 1usize << A;
        let mask = if D >= 64 { u64::MAX } else { (1u64 << D) - 1 };
        let mut sim = Simulation::new();
        sim.add_clock(5, |x: &mut Box<SdpRam<D, A>>| x.clock.next = !x.clock.val());
        sim.add_testbench(move |mut sim: Sim<SdpRam<D, A>>| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut x = sim.init()?;
            let mut shadow = vec![0u64; depth];
            let mut held = 0u64;
            wait_clock_true!(sim, clock, x);
            for _ in 0..cycles {
                let we = rng.gen_bool(0.6);
                let wa = rng.gen_range(0..depth);
                let wd = rng.gen::<u64>() & mask;
                let mut ra = rng.gen_range(0..depth);
                if we && ra == wa {
                    ra = (ra + 1) % depth;
                }
                x.write_enable.next = we;
                x.write_address.next = (wa as u64).into();
                x.write_data.next = wd.into();
                let re = rng.gen_bool(0.7);
                x.read_address.next = (ra as u64).into();
                x.read_enable.next = re;
                wait_clock_cycle!(sim, clock, x);
                if re {
                    held = shadow[ra];
                }
                sim_assert_eq!(sim, x.read_data.val(), Bits::<D>::from(held), x);
                if we {
                    shadow[wa] = wd;
                }
            }
            sim.done(x)
        });
        sim.run(
            Box::new(SdpRam::<D, A>::default()),
            10 * (cycles as u64 + 4),
        )
        .unwrap();
    }

    #[test]
    fn rust_model_reads_what_was_written_8x512() {
        random_traffic::<8, 9>(1, 3000);
    }

    #[test]
    fn rust_model_reads_what_was_written_64x128() {
        random_traffic::<64, 7>(2, 1000);
    }

    #[test]
    fn verilog_is_lint_clean_and_compiles() {
        let v = verilog_of(&mut SdpRam::<8, 9>::default());
        assert!(v.contains("(* no_rw_check *)"));
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("iverilog") {
            iverilog_compile(&v).unwrap();
        }
    }

    /// Block RAMs needed for `words × bits` given the primitive's widest `(width, depth)`
    /// modes, narrowest width first: the mode that needs fewest RAMs wins.
    fn brams_needed(words: usize, bits: usize, modes: &[(usize, usize)]) -> usize {
        modes
            .iter()
            .map(|&(w, d)| bits.div_ceil(w) * words.div_ceil(d))
            .min()
            .unwrap()
    }

    fn check_maps_to_bram<const D: usize, const A: usize>() {
        check_maps_to_bram_of::<D, A>(SdpRam::default(), 0);
    }

    /// As [`check_maps_to_bram`] for any form, with the flip-flops it should add beside the
    /// block RAMs (exactly: a forwarding flip-flop more or less is a design change).
    fn check_maps_to_bram_of<const D: usize, const A: usize>(mut uut: SdpRam<D, A>, ffs: usize) {
        let v = verilog_of(&mut uut);
        let words = 1 << A;
        // SB_RAM40_4K: 256×16 … 2048×2; DP16KD (simple dual port): 512×36 … 16384×1.
        let ice40 = [(16, 256), (8, 512), (4, 1024), (2, 2048)];
        let ecp5 = [
            (36, 512),
            (18, 1024),
            (9, 2048),
            (4, 4096),
            (2, 8192),
            (1, 16384),
        ];
        for (t, modes) in [(Target::Ice40, &ice40[..]), (Target::Ecp5, &ecp5[..])] {
            let s = yosys_stat(&v, "top", t).unwrap();
            eprintln!("SdpRam<{D},{A}> {s}");
            assert_eq!(s.brams(), brams_needed(words, D, modes), "{s}");
            assert_eq!(s.latches(), 0, "{s}");
            assert_eq!(s.ffs(), ffs, "no read-during-write logic: {s}");
            if ffs == 0 {
                // yosys 0.23 drives the iCE40 256×16 mode's bit MASK from an inverted write
                // enable: one LUT4 for the whole RAM, not read-during-write logic.
                let allowed_luts = usize::from(t == Target::Ice40 && D > 8);
                assert!(s.luts() <= allowed_luts, "no read-during-write logic: {s}");
            }
        }
    }

    #[test]
    fn maps_to_block_ram_8x512() {
        if require_tool("yosys") {
            check_maps_to_bram::<8, 9>();
        }
    }

    #[test]
    fn maps_to_block_ram_64x128() {
        if require_tool("yosys") {
            check_maps_to_bram::<64, 7>();
        }
    }

    #[test]
    fn forwarding_forms_map_to_block_ram_with_their_registers() {
        if require_tool("yosys") {
            // `forward` and `forward_data`.
            check_maps_to_bram_of::<64, 7>(SdpRam::write_first(), 1 + 64);
            // … and the pending write: enable, address, word.
            check_maps_to_bram_of::<64, 7>(SdpRam::write_first().with_late_write(true), 1 + 64 + 1 + 7 + 64);
            check_maps_to_bram_of::<64, 7>(SdpRam::default().with_late_write(true), 1 + 64 + 1 + 7 + 64);
            // The read stage: the pending and the older write, the address in flight with its
            // flag and forward, the landed word and its forward.
            let stage = 2 * (1 + 7 + 64) + 7 + 1 + 1 + 64 + 64 + 1 + 64;
            check_maps_to_bram_of::<64, 7>(SdpRam::default().with_read_stage(true), stage);
            check_maps_to_bram_of::<64, 7>(SdpRam::write_first().with_read_stage(true), stage);
        }
    }

    /// Icarus runs the Verilog on the same random traffic as the rust-hdl model (every word
    /// written first, so no read sees uninitialised memory) and reads exactly what the model
    /// read, cycle by cycle.
    fn verilog_matches_model<const D: usize, const A: usize>(seed: u64, cycles: usize) {
        verilog_matches_model_of::<D, A>(SdpRam::default(), seed, cycles);
    }

    /// As [`verilog_matches_model`] for any mode: in single-port mode the write cycles' reads
    /// check that the output held.
    fn verilog_matches_model_of<const D: usize, const A: usize>(
        mut uut: SdpRam<D, A>,
        seed: u64,
        cycles: usize,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let depth = 1usize << A;
        let mask = if D >= 64 { u64::MAX } else { (1u64 << D) - 1 };
        let v = verilog_of(&mut uut);
        let mut vectors = String::new();
        let mut read_once = false;
        let mut read_any = false;
        let mut collisions = 0;
        let mut last_wa = 0;
        // Read stage: the address presented on the last enabled read.
        let mut flight = 0;
        for n in 0..depth + cycles {
            let init = n < depth;
            let (we, mut wa) = if init {
                (true, n)
            } else {
                (rng.gen_bool(0.6), rng.gen_range(0..depth))
            };
            if uut._read_stage && !init && rng.gen_range(0..4) == 0 {
                // Write the address in flight: forwarded on its landing edge or before.
                wa = flight;
            }
            let wd = rng.gen::<u64>() & mask;
            let mut ra = if init {
                (n + 1) % depth
            } else {
                rng.gen_range(0..depth)
            };
            if (uut._write_first || uut._late_write || uut._read_stage) && !init {
                // Every collision is defined: read the address written now or on the last
                // edge (pending with late writes) a third of the time.
                match rng.gen_range(0..6) {
                    0 => ra = wa,
                    1 => ra = last_wa,
                    _ => {}
                }
            } else if we && ra == wa {
                ra = (ra + 1) % depth;
            }
            last_wa = wa;
            let re = init || rng.gen_bool(0.7);
            uut.write_enable.next = we;
            uut.write_address.next = (wa as u64).into();
            uut.write_data.next = wd.into();
            uut.read_address.next = (ra as u64).into();
            uut.read_enable.next = re;
            assert!(simulate(&mut uut, 100));
            uut.clock.next = Clock::from(true);
            assert!(simulate(&mut uut, 100));
            uut.clock.next = Clock::from(false);
            assert!(simulate(&mut uut, 100));
            // Single port: the output is undefined until the first read after the writes.
            read_once |= !init && !we && re;
            // Dual port: a held word is defined once a read after the writes took place.
            read_any |= !init && re;
            let check = if uut._single_port {
                read_once
            } else if uut._read_stage {
                // The first read after the writes lands the last address the writes read.
                !init && read_any
            } else {
                (!init && read_any) || (init && ra < n)
            };
            let landing_collision = uut._read_stage && we && wa == flight;
            collisions += usize::from(check && re && we && (ra == wa || landing_collision));
            if re {
                flight = ra;
            }
            let rd = uut.read_data.val().to_u64();
            vectors += &format!(
                "{:x}{:x}{wa:04x}{ra:04x}{wd:016x}{rd:016x}\n",
                check as u8,
                we as u8 | (re as u8) << 1
            );
        }
        let n = depth + cycles;
        let tb = format!(
            "\
module tb;
reg clock, write_enable, read_enable;
reg [{am}:0] write_address, read_address;
reg [{dm}:0] write_data;
wire [{dm}:0] read_data;
reg [167:0] vec [0:{last}];
integer i, errors, checked;
top dut(.clock(clock), .write_enable(write_enable), .write_address(write_address),
        .write_data(write_data), .read_address(read_address), .read_enable(read_enable),
        .read_data(read_data));
initial begin
  $readmemh(\"vectors.hex\", vec);
  errors = 0; checked = 0; clock = 0;
  for (i = 0; i < {n}; i = i + 1) begin
    write_enable = vec[i][160];
    read_enable = vec[i][161];
    write_address = vec[i][159:144];
    read_address = vec[i][143:128];
    write_data = vec[i][127:64];
    #5 clock = 1;
    #5 clock = 0;
    if (vec[i][164]) begin
      checked = checked + 1;
      if (read_data !== vec[i][{dm}:0]) begin
        errors = errors + 1;
        if (errors < 10) $display(\"MISMATCH cycle %0d: %h model %h\", i, read_data, vec[i][{dm}:0]);
      end
    end
  end
  $display(\"ERRORS %0d CHECKED %0d\", errors, checked);
  $finish;
end
endmodule
",
            am = A - 1,
            dm = D - 1,
            last = n - 1,
        );
        let out = iverilog_run(&v, &tb, &[("vectors.hex", vectors)]).unwrap();
        assert!(out.contains("ERRORS 0 CHECKED"), "{out}");
        assert!(!out.contains("CHECKED 0\n"), "{out}");
        let defined = uut._write_first || uut._late_write || uut._read_stage;
        assert_eq!(collisions > 0, defined, "same-address reads and writes in the traffic");
    }

    #[test]
    fn verilog_matches_the_rust_model_8x512() {
        if require_tool("iverilog") && require_tool("vvp") {
            verilog_matches_model::<8, 9>(11, 3000);
        }
    }

    #[test]
    fn verilog_matches_the_rust_model_64x128() {
        if require_tool("iverilog") && require_tool("vvp") {
            verilog_matches_model::<64, 7>(12, 2000);
        }
    }

    #[test]
    fn forwarding_verilog_matches_the_rust_model() {
        if require_tool("iverilog") && require_tool("vvp") {
            verilog_matches_model_of::<64, 4>(SdpRam::write_first(), 14, 2000);
            verilog_matches_model_of::<64, 4>(SdpRam::write_first().with_late_write(true), 15, 2000);
            verilog_matches_model_of::<8, 1>(SdpRam::write_first().with_late_write(true), 16, 500);
            verilog_matches_model_of::<64, 4>(SdpRam::default().with_late_write(true), 17, 2000);
            verilog_matches_model_of::<8, 1>(SdpRam::default().with_late_write(true), 18, 500);
        }
    }

    #[test]
    fn read_stage_verilog_matches_the_rust_model() {
        if require_tool("iverilog") && require_tool("vvp") {
            verilog_matches_model_of::<64, 4>(SdpRam::default().with_read_stage(true), 20, 2000);
            verilog_matches_model_of::<8, 1>(SdpRam::default().with_read_stage(true), 21, 500);
            verilog_matches_model_of::<64, 4>(SdpRam::write_first().with_read_stage(true), 22, 2000);
            verilog_matches_model_of::<8, 1>(SdpRam::write_first().with_read_stage(true), 23, 500);
        }
    }

    #[test]
    fn forwarding_verilog_is_lint_clean() {
        for uut in [
            SdpRam::<8, 3>::write_first(),
            SdpRam::write_first().with_late_write(true),
            SdpRam::default().with_late_write(true),
            SdpRam::default().with_read_stage(true),
            SdpRam::write_first().with_read_stage(true),
        ] {
            let v = verilog_of(&mut { uut });
            if require_tool("verilator") {
                lint(&v, "top").unwrap();
            }
        }
    }

    /// One clock edge with a write (`we`, `wa`, `wd`) and an enabled read of `ra`: the read
    /// data after it.
    fn edge<const A: usize>(uut: &mut SdpRam<8, A>, we: bool, wa: u64, wd: u64, ra: u64) -> u64 {
        uut.write_enable.next = we;
        uut.write_address.next = wa.into();
        uut.write_data.next = wd.into();
        uut.read_address.next = ra.into();
        uut.read_enable.next = true;
        assert!(simulate(uut, 100));
        uut.clock.next = Clock::from(true);
        assert!(simulate(uut, 100));
        uut.clock.next = Clock::from(false);
        assert!(simulate(uut, 100));
        uut.read_data.val().to_u64()
    }

    /// The model's collision rule, edge by edge: a read of the address written on its edge
    /// returns the new word (write-first) or the old one (the default form).
    #[test]
    fn write_first_model_returns_the_word_being_written() {
        for (mut uut, first) in [(SdpRam::<8, 2>::write_first(), true), (SdpRam::<8, 2>::default(), false)] {
            uut.connect_all();
            edge(&mut uut, true, 1, 0x11, 0);
            assert_eq!(edge(&mut uut, true, 1, 0x22, 1), if first { 0x22 } else { 0x11 });
            assert_eq!(edge(&mut uut, false, 0, 0, 1), 0x22);
        }
    }

    /// The read stage, edge by edge: each read returns the address presented on the read
    /// before it, read on its own edge with the form's collision rule.
    #[test]
    fn read_stage_model_lands_the_last_address_as_read_now() {
        for (mut uut, first) in [
            (SdpRam::<8, 2>::write_first().with_read_stage(true), true),
            (SdpRam::<8, 2>::default().with_read_stage(true), false),
        ] {
            uut.connect_all();
            edge(&mut uut, true, 2, 0x33, 1);
            // Address 1 lands while 0x11 is written to it: the new or the old word (0).
            assert_eq!(edge(&mut uut, true, 1, 0x11, 2), if first { 0x11 } else { 0 });
            // Address 2 was written before it was presented.
            assert_eq!(edge(&mut uut, true, 1, 0x22, 1), 0x33);
            // Address 1 presented on the edge 0x22 was written to it, lands after.
            assert_eq!(edge(&mut uut, false, 0, 0, 0), 0x22);
        }
    }

    #[test]
    fn single_port_model_holds_read_data_while_writing() {
        let mut uut = SdpRam::<8, 4>::single_port();
        uut.connect_all();
        edge(&mut uut, true, 3, 0x5a, 0);
        assert_eq!(edge(&mut uut, false, 0, 0, 3), 0x5a);
        // A write cycle: the output keeps the last word read, whatever the read address.
        assert_eq!(edge(&mut uut, true, 4, 0x77, 3), 0x5a);
        assert_eq!(edge(&mut uut, true, 3, 0x11, 4), 0x5a);
        assert_eq!(edge(&mut uut, false, 3, 0, 4), 0x77);
        assert_eq!(edge(&mut uut, false, 4, 0, 3), 0x11);
    }

    #[test]
    fn single_port_verilog_matches_the_rust_model() {
        if require_tool("iverilog") && require_tool("vvp") {
            verilog_matches_model_of::<32, 5>(SdpRam::single_port(), 13, 2000);
        }
    }

    #[test]
    fn single_port_maps_to_spram_on_ice40() {
        let v = verilog_of(&mut SdpRam::<32, 5>::single_port());
        if require_tool("verilator") {
            lint(&v, "top").unwrap();
        }
        if require_tool("yosys") {
            let s = yosys_stat(&v, "top", Target::Ice40).unwrap();
            eprintln!("SdpRam<32,5> single port {s}");
            // 32 bits = two 16-bit SB_SPRAM256KA, no block RAM, no flip-flops; LUTs only
            // for the address multiplexer and the read enable (a free input here, a
            // constant where the engine uses this form).
            assert_eq!(s.count("SB_SPRAM256KA"), 2, "{s}");
            assert_eq!(s.brams(), 0, "{s}");
            assert_eq!(s.ffs(), 0, "{s}");
            assert!(s.luts() <= 6, "{s}");
        }
    }
}
