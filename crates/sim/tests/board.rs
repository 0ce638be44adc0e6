//! The board top in Verilator, driven the way a host with a USB-serial cable drives a board:
//! bytes go in on `uart_rx` bit by bit (8N1, a small divisor), the layer is loaded and the
//! pixels streamed through the byte protocol of `dsc_hw::board`, and the bytes decoded from
//! `uart_tx` must equal `dsc_model::depthwise::depthwise` bit for bit. Plus the protocol's
//! error cases and the reset button.

use dsc_hw::board::{
    flag, pixels_command, write_command, BoardIo, BoardTop, OP_STATUS, RESP_BAD_OPCODE, RESP_STATUS,
};
use dsc_hw::depthwise::{cfg_addr, DepthwiseProgram, CFG_CLEAR_ERROR};
use dsc_model::depthwise::depthwise;
use dsc_model::engine_config::EngineConfig;
use dsc_model::requant::{M0_MIN, SHIFT_MAX, SHIFT_MIN};
use dsc_model::{RequantParams, Tensor};
use dsc_sim::{build, BuildOptions, Compiled, Design, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Clock cycles per UART bit in simulation (a board uses `f_clk / 115200`).
const DIVISOR: u16 = 4;

/// The depthwise engine of the Verilator sweep (`SmallEngine`: 3×3, `P = 2`, up to 12×12×8).
fn small_cfg() -> EngineConfig {
    EngineConfig::new(3, 2, 1, 1, 12, 12, 8).unwrap()
}

/// `BoardTop` around `SmallEngine`'s widths, with an active-low button and LEDs (iCEBreaker).
type SmallBoard = BoardTop<16, 144, 6, 2, 4, 3, 19, 64, 12, 17>;

fn board() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let io = BoardIo {
            divisor: DIVISOR,
            button_active_low: true,
            leds_active_low: true,
        };
        let mut top = SmallBoard::new(&small_cfg(), io).unwrap();
        let design = Design::from_block("board_small", &mut top).unwrap();
        let options = BuildOptions {
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dsc-sim-cache")),
            ..BuildOptions::default()
        };
        build(&design, &options).unwrap()
    })
}

/// The host end of the serial cable: sends queued bytes as 8N1 frames (with an optional
/// random idle gap before each) and decodes the board's line, sampling each bit at its centre.
struct Host {
    m: Model,
    rng: ChaCha8Rng,
    /// Probability of an idle bit before a frame (0: full line rate).
    gap: f64,
    out_bits: VecDeque<bool>,
    out_bytes: VecDeque<u8>,
    /// Decoder: cycles into the current frame, or None when idle.
    rx_at: Option<u64>,
    rx_byte: u8,
    received: Vec<u8>,
    prev_line: bool,
}

impl Host {
    fn new(gap: f64, seed: u64) -> Self {
        let mut m = board().model().unwrap();
        m.set("uart_rx", 1).unwrap();
        m.set("button", 1).unwrap();
        m.ticks(4);
        Host {
            m,
            rng: ChaCha8Rng::seed_from_u64(seed),
            gap,
            out_bits: VecDeque::new(),
            out_bytes: VecDeque::new(),
            rx_at: None,
            rx_byte: 0,
            received: Vec::new(),
            prev_line: true,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.out_bytes.extend(bytes);
    }

    /// One clock cycle: drive `uart_rx`, clock, decode `uart_tx`.
    fn step(&mut self) {
        if self.out_bits.is_empty() {
            if let Some(b) = self.out_bytes.pop_front() {
                let d = DIVISOR as usize;
                if self.rng.gen_bool(self.gap) {
                    self.out_bits.extend(std::iter::repeat(true).take(d));
                }
                let mut frame = vec![false];
                frame.extend((0..8).map(|k| (b >> k) & 1 == 1));
                frame.push(true);
                for bit in frame {
                    self.out_bits.extend(std::iter::repeat(bit).take(d));
                }
            }
        }
        let level = self.out_bits.pop_front().unwrap_or(true);
        self.m.set("uart_rx", level as u64).unwrap();
        self.m.tick();
        let line = self.m.get("uart_tx").unwrap() == 1;
        let d = DIVISOR as u64;
        match self.rx_at {
            None => {
                if self.prev_line && !line {
                    self.rx_at = Some(0);
                }
            }
            Some(t) => {
                let t = t + 1;
                self.rx_at = Some(t);
                // Bit k's centre: k·d + d/2 cycles after the falling edge.
                if t >= d / 2 && (t - d / 2) % d == 0 {
                    let k = (t - d / 2) / d;
                    match k {
                        0 => assert!(!line, "start bit not low at its centre"),
                        1..=8 => self.rx_byte |= (line as u8) << (k - 1),
                        _ => {
                            assert!(line, "stop bit low");
                            self.received.push(self.rx_byte);
                            self.rx_byte = 0;
                            self.rx_at = None;
                        }
                    }
                }
            }
        }
        self.prev_line = line;
    }

    /// Runs until `n` bytes have come back (everything queued is sent meanwhile); returns
    /// them. Panics after `limit` cycles.
    fn receive(&mut self, n: usize, limit: u64) -> Vec<u8> {
        let end = self.m.cycles() + limit;
        while self.received.len() < n {
            assert!(
                self.m.cycles() < end,
                "{} of {n} bytes after {limit} cycles",
                self.received.len()
            );
            self.step();
        }
        std::mem::take(&mut self.received)
    }

    /// Sends everything queued and waits `cycles` more; returns what came back meanwhile.
    fn settle(&mut self, cycles: u64) -> Vec<u8> {
        while !self.out_bytes.is_empty() || !self.out_bits.is_empty() {
            self.step();
        }
        for _ in 0..cycles {
            self.step();
        }
        std::mem::take(&mut self.received)
    }

    /// Cycles to send what is queued and get `n` bytes back, with room to spare.
    fn budget(&self, n: usize) -> u64 {
        20 * DIVISOR as u64 * (self.out_bytes.len() + n + 4) as u64 + 1000
    }

    fn status(&mut self) -> u8 {
        self.send(&[OP_STATUS]);
        let r = self.receive(2, self.budget(2));
        assert_eq!(r[0], RESP_STATUS, "{r:?}");
        r[1]
    }

    fn led(&mut self, name: &str) -> bool {
        // Active low.
        self.m.get(name).unwrap() == 0
    }
}

struct Layer {
    input: Tensor<i8>,
    weights: Tensor<i8>,
    in_zp: i32,
    stride: usize,
    rq: RequantParams,
}

fn random_layer(rng: &mut ChaCha8Rng, cfg: &EngineConfig, stride: usize) -> Layer {
    let dk = cfg.dk();
    let h = rng.gen_range(dk..=cfg.max_height());
    let w = rng.gen_range(dk..=cfg.max_width());
    let m = cfg.lanes() * rng.gen_range(1..=cfg.max_groups());
    let input = Tensor::from_fn([1, h, w, m], |_, _, _, _| rng.gen()).unwrap();
    let weights = Tensor::from_fn([1, dk, dk, m], |_, _, _, _| rng.gen()).unwrap();
    let in_zp = rng.gen_range(-128..=127);
    let bias = (0..m).map(|_| rng.gen_range(-20_000..20_000)).collect();
    let mult = (0..m).map(|_| rng.gen_range(M0_MIN..=i32::MAX)).collect();
    let shift = (0..m)
        .map(|_| {
            if rng.gen_bool(0.2) {
                rng.gen_range(SHIFT_MIN..=SHIFT_MAX)
            } else {
                rng.gen_range(-12..-7)
            }
        })
        .collect();
    let out_zp = rng.gen_range(-128..=127);
    let rq = RequantParams::new(bias, mult, shift, out_zp, -128, 127).unwrap();
    Layer {
        input,
        weights,
        in_zp,
        stride,
        rq,
    }
}

/// The bytes of a layer's config writes (START last).
fn program_bytes(prog: &DepthwiseProgram) -> Vec<u8> {
    prog.writes()
        .iter()
        .flat_map(|&(a, d)| write_command(a, d))
        .collect()
}

/// Loads `l` and streams its pixels at the host's pace; returns the decoded output tensor.
fn run_layer(host: &mut Host, cfg: &EngineConfig, l: &Layer) -> Tensor<i8> {
    let prog =
        DepthwiseProgram::new(cfg, l.input.shape(), &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    host.send(&program_bytes(&prog));
    let pixels: Vec<u8> = l.input.data().iter().map(|&v| v as u8).collect();
    host.send(&pixels_command(cfg.lanes(), &pixels).unwrap());
    let layer = prog.layer();
    let n = layer.window_count() * cfg.lanes();
    let bytes_in = pixels.len() + prog.writes().len() * 9 + 5;
    let got = host.receive(n, 20 * DIVISOR as u64 * (bytes_in + n) as u64 + 10_000);
    let data = got.iter().map(|&b| b as i8).collect();
    Tensor::new([1, layer.rows.out, layer.cols.out, layer.channels], data).unwrap()
}

fn check_layer(host: &mut Host, cfg: &EngineConfig, l: &Layer, ctx: &str) {
    let golden = depthwise(&l.input, &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    let got = run_layer(host, cfg, l);
    assert_eq!(
        got.data(),
        golden.data(),
        "{ctx}: layer {:?} stride {}",
        l.input.shape(),
        l.stride
    );
    assert!(
        host.settle(40 * DIVISOR as u64).is_empty(),
        "{ctx}: bytes after the frame"
    );
    assert_eq!(host.status(), 0, "{ctx}: status after the frame");
    assert!(
        !host.led("led_busy") && !host.led("led_error"),
        "{ctx}: LEDs"
    );
}

/// Random layers (stride 1 and 2, sizes up to the engine's maxima) loaded and run through
/// the UART at the full line rate and with idle gaps: every output byte equals the golden
/// model's; nothing is lost (no overflow flag, exactly the frame's bytes), status clean.
#[test]
fn layers_over_the_uart_are_bit_exact() {
    let cfg = small_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xB0A4D);
    for (case, gap) in [0.0, 0.0, 0.3, 0.0, 0.5, 0.0].into_iter().enumerate() {
        let mut host = Host::new(gap, case as u64);
        let l = random_layer(&mut rng, &cfg, 1 + case % 2);
        check_layer(&mut host, &cfg, &l, &format!("case {case} gap {gap}"));
        // A second layer on the same board, back to back.
        let l = random_layer(&mut rng, &cfg, 2 - case % 2);
        check_layer(&mut host, &cfg, &l, &format!("case {case} second layer"));
    }
}

/// The largest layer of the engine (12×12×8, stride 1) at the full line rate: the output
/// rate equals the input rate, so this is where a lost byte would show.
#[test]
fn largest_layer_at_full_line_rate() {
    let cfg = small_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0x1A26E);
    let mut l = random_layer(&mut rng, &cfg, 1);
    l.input = Tensor::from_fn([1, 12, 12, 8], |_, _, _, _| rng.gen()).unwrap();
    l.weights = Tensor::from_fn([1, 3, 3, 8], |_, _, _, _| rng.gen()).unwrap();
    l.rq = RequantParams::new(vec![100; 8], vec![1 << 30; 8], vec![-9; 8], 3, -128, 127).unwrap();
    let mut host = Host::new(0.0, 9);
    check_layer(&mut host, &cfg, &l, "12x12x8");
}

/// A bad opcode: the documented response (`'?'`, the opcode), nothing written (the layer
/// loaded before it runs bit-exact afterwards, the engine reports no refused write), the
/// error LED on and BAD_OPCODE reported once.
#[test]
fn bad_opcode_is_answered_and_writes_nothing() {
    let cfg = small_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xBAD0);
    let l = random_layer(&mut rng, &cfg, 1);
    let prog =
        DepthwiseProgram::new(&cfg, l.input.shape(), &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    let mut host = Host::new(0.0, 3);
    // Everything but START, then bad opcodes, then START and the pixels.
    let writes = prog.writes();
    let (start, rest) = writes.split_last().unwrap();
    host.send(
        &rest
            .iter()
            .flat_map(|&(a, d)| write_command(a, d))
            .collect::<Vec<_>>(),
    );
    for op in [0x00u8, b'w', 0xFF, 0x51] {
        host.send(&[op]);
        assert_eq!(
            host.receive(2, 200 * 9 * DIVISOR as u64 * writes.len() as u64),
            [RESP_BAD_OPCODE, op]
        );
    }
    assert!(host.led("led_error"));
    assert_eq!(host.status(), flag::BAD_OPCODE);
    assert_eq!(host.status(), 0, "read clears BAD_OPCODE");
    assert!(!host.led("led_error"));
    host.send(&write_command(start.0, start.1));
    let pixels: Vec<u8> = l.input.data().iter().map(|&v| v as u8).collect();
    host.send(&pixels_command(cfg.lanes(), &pixels).unwrap());
    let n = prog.layer().window_count() * cfg.lanes();
    let got = host.receive(n, 40 * DIVISOR as u64 * (pixels.len() + n) as u64 + 10_000);
    let golden = depthwise(&l.input, &l.weights, l.in_zp, l.stride, &l.rq).unwrap();
    assert_eq!(
        got.iter().map(|&b| b as i8).collect::<Vec<_>>(),
        golden.data()
    );
    assert_eq!(host.status(), 0);
}

/// A write the engine refuses (an unknown register) shows as ENGINE_ERROR and the error LED
/// until the engine's clear-error write.
#[test]
fn refused_write_is_reported_until_cleared() {
    let mut host = Host::new(0.0, 4);
    host.send(&write_command(cfg_addr(9, 0), 1));
    assert_eq!(host.status(), flag::ENGINE_ERROR);
    assert!(host.led("led_error"));
    assert_eq!(
        host.status(),
        flag::ENGINE_ERROR,
        "the engine's flag is sticky"
    );
    host.send(&write_command(cfg_addr(0, CFG_CLEAR_ERROR), 0));
    assert_eq!(host.status(), 0);
    assert!(!host.led("led_error"));
}

/// The button in the middle of a frame abandons it (bridge and engine); after draining
/// what was already on its way, the next layer runs bit-exact.
#[test]
fn button_mid_frame_then_a_clean_layer() {
    let cfg = small_cfg();
    let mut rng = ChaCha8Rng::seed_from_u64(0xB77);
    let a = random_layer(&mut rng, &cfg, 1);
    let prog =
        DepthwiseProgram::new(&cfg, a.input.shape(), &a.weights, a.in_zp, a.stride, &a.rq).unwrap();
    let mut host = Host::new(0.0, 5);
    host.send(&program_bytes(&prog));
    let pixels: Vec<u8> = a.input.data().iter().map(|&v| v as u8).collect();
    let cmd = pixels_command(cfg.lanes(), &pixels).unwrap();
    // Half the pixel bytes only: the frame never completes by itself.
    host.send(&cmd[..5 + pixels.len() / 2]);
    host.settle(200 * DIVISOR as u64);
    assert!(host.led("led_busy"));
    host.m.set("button", 0).unwrap();
    host.m.ticks(10);
    host.m.set("button", 1).unwrap();
    host.settle(400 * DIVISOR as u64);
    assert!(!host.led("led_busy"), "the button abandons the frame");
    assert_eq!(host.status() & !flag::LAST_ERROR, 0);
    let b = random_layer(&mut rng, &cfg, 2);
    check_layer(&mut host, &cfg, &b, "after the button");
}
