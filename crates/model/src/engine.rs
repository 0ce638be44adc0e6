//! The fused DSC engine (`dsc_hw::engine::DscEngine`): depthwise engine → stream FIFO →
//! pointwise stage. Its generation parameters ([`DscConfig`], including the FIFO depth and why),
//! a layer as it runs ([`DscLayer`]), and the exact cycle model [`dsc_cycles`] with the ideal
//! cycles, bottleneck stage and per-stage utilization ([`dsc_timing`]).
//!
//! ## Cycle model
//!
//! The stages interact through backpressure (the pointwise stage takes input only while one of
//! its two pixel banks is free; the FIFO fills; the depthwise engine's credits run out; its
//! window generator stalls), so the count has no closed form. [`dsc_cycles`] is a
//! cycle-stepped *timing* model — no data, only the counters and handshakes of the RTL —
//! from cycle 0 (the first input beat taken) until the pointwise stage has taken its last
//! input beat; the rest follows the pointwise recurrence. Per cycle `t`:
//!
//! * **Window generator** (`dsc_hw::window::SlidingWindow`): scan position `n` and the
//!   output register `ov`. With `wr = credits < 32` (the engine accepts a window while its
//!   output FIFO has room for it): `fire = running ∧ (¬emit(n) ∨ ¬ov ∨ wr)`,
//!   `accept = ov ∧ wr`, `ov' = (ov ∧ ¬wr) ∨ (fire ∧ emit)`; a fired position moves on (the
//!   input is always valid). `emit(n)`: position `n` emits a window
//!   ([`crate::window::WindowLayer::emit_positions`]).
//! * **Lanes + requantizer**: a window accepted in cycle `t` enters the depthwise output
//!   FIFO in cycle `t + L_lane + L_rq` ([`crate::depthwise::lane_latency`],
//!   [`crate::depthwise::REQUANT_LATENCY`]); `credits' = credits + accept − sent`.
//! * **FIFOs** (`dsc_hw::stream::StreamFifo`, the depthwise engine's 32 beats and the
//!   inter-stage `D`): RAM count, in-flight read, two-entry output queue, exactly as the RTL
//!   ([`FifoTiming`]); the depthwise FIFO's output is ready while the inter-stage FIFO holds
//!   fewer than `D`; the inter-stage FIFO's output is ready while the pointwise stage accepts.
//! * **Pointwise input**: block `b` (of `Bb` pixels, `Bb·MT` beats) is accepted beat by beat
//!   from cycle `max(in_end[b−1], c_end[b−2])` on (its pixel bank is free); when its last beat
//!   is taken in cycle `t`, `in_end[b] = t + 1` and `c_end[b]`, `o_end[b]` follow from
//!   [`crate::pointwise`]'s recurrence (`c_dec = max(in_end[b], o_end[b−2], c_end[b−1])`,
//!   `c_end = c_dec + R + MT·NT·T + 1`, `o_end = max(c_end − (T − Bb) + L + 11, o_end[b−1]) +
//!   Bb·NT`).
//!
//! The count is `o_end[last] + PW_OUT_LATENCY` (the last beat leaves in cycle
//! `o_end[last] − 1 + 4`). Steps are a handful of integer operations: a MobileNet-v1 layer
//! (≤ 10⁶ cycles) takes milliseconds.
//!
//! ## Conv mode
//!
//! A standard `Dk×Dk` convolution runs on the same engine with the depthwise engine in im2col
//! mode ([`DscConfig::conv_layer`], [`conv_cycles`]): the pointwise stage sees `M' = G·Dk²·P`
//! channels, `MT = G·Dk²` tiles, and the lanes + requantizer step above becomes the
//! serializer: `wr = credits ≤ 32 − Dk² ∧ (serializer empty or on its last tap)`, a window
//! accepted in cycle `t` enters the depthwise FIFO as `Dk²` beats in cycles `t + 1 ..= t +
//! Dk²` and adds `Dk²` credits. Everything else is unchanged.
//!
//! On a layer where both modes are bound by the pointwise array, the conv mode does `Dk²`
//! times the array's work of the DSC (the DSC's depthwise MACs run concurrently on the
//! lanes), so DSC ÷ conv cycles tends to `1/Dk²`, below the MAC ratio `1/N + 1/Dk²`.

use crate::depthwise::{engine_config_writes, engine_cycles, lane_latency, REQUANT_LATENCY};
use crate::engine_config::EngineConfig;
use crate::error::{ModelError, Result};
use crate::pointwise::{
    pointwise_config_writes, pointwise_cycles, PointwiseConfig, PointwiseLayer, PW_MIN_TILE,
    PW_OUT_LATENCY, PW_POST_LATENCY,
};
use crate::im2col::{im2col_channels, im2col_layer, IM2COL_CONFIG_WRITES};
use crate::window::WindowLayer;

/// Beats of the depthwise engine's own output FIFO (`dsc_hw::depthwise::FIFO_ADDR_BITS`),
/// which is also its credit limit.
pub const DW_OUTPUT_FIFO_DEPTH: u64 = 32;
/// Largest inter-stage FIFO (`dsc_hw::stream::StreamFifo` takes up to 15 address bits).
pub const MAX_FIFO_DEPTH: usize = 1 << 15;

/// Generation parameters of the fused engine: the depthwise engine, the pointwise stage and
/// the depth of the FIFO between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DscConfig {
    engine: EngineConfig,
    pointwise: PointwiseConfig,
    fifo_depth: usize,
}

/// A DSC layer as the fused engine runs it: the depthwise geometry and the pointwise layer
/// over the depthwise output (`Ho·Wo` pixels, its block size chosen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DscLayer {
    pub window: WindowLayer,
    pub pointwise: PointwiseLayer,
}

/// Beats the inter-stage FIFO needs to pass one beat per cycle: a `StreamFifo`'s `tready` is
/// registered on its count and a beat takes [`crate::depthwise::OUTPUT_FIFO_LATENCY`] = 3
/// cycles from its input to its output, so a full-rate stream holds 3 beats in it and the
/// FIFO must count to 4 (a power of two) for `tready` to stay high.
pub const FIFO_ROUND_TRIP: usize = 4;

/// The worst depthwise burst a config admits: the layer and the beats beyond what the
/// pointwise stage absorbs ([`fifo_depth_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FifoBurst {
    /// Standard convolution (im2col producer) rather than DSC.
    pub conv: bool,
    pub stride: usize,
    pub width: usize,
    pub groups: usize,
    pub n_tiles: usize,
    /// The smallest pointwise block of a layer with this row (the worst case).
    pub block: usize,
    /// Beats of one output row.
    pub row_beats: u64,
    /// Cycles in which the depthwise engine produces them.
    pub row_cycles: u64,
    /// Beats beyond what the pointwise stage takes meanwhile and its free bank.
    pub excess: u64,
}

/// The FIFO depth for `engine` + `pointwise` and a one-line reason, computed from the two
/// stages' rates and burst lengths (the timing model in this module's docs), not by stepping
/// layers:
///
/// `D = min(2^ceil(log2(4 + E)), 2^ceil(log2(B·MT)))`, `E = max over the layers the config
/// takes of excess(layer)`:
///
/// * **4** ([`FIFO_ROUND_TRIP`]): the FIFO's own ready/valid round trip, so a beat per cycle
///   passes (2 beats do not: MobileNet-v1 layers slow down).
/// * **Pointwise faster than depthwise** (the pointwise stage takes a block at a beat per cycle
///   once a pixel bank frees): it has a whole block's compute, `X = R + 1 + MT·NT·T` cycles
///   (`T = max(Bb, R, 3)`), to take the next block before the array waits; beats the
///   depthwise engine has not produced yet cannot be buffered, so no depth helps.
/// * **Depthwise faster than pointwise** (both banks full): the depthwise engine is
///   backpressured. That costs nothing when, restarted, it delivers a block of `Bb` pixels
///   within `X`: from where it stalled (an emitting position) it needs at most
///   `Bb·pace + ceil(Bb/Wo)·gap` cycles, `pace` the scan cycles per output pixel inside a row
///   (`s·G`; conv `G·Dk² + (s − 1)·G`) and `gap` the cycles of an output-row period
///   (`s·(W + half)·G` scan cycles) that make no pixel (row ends, the rows stride 2 skips).
///   Otherwise the stall delays the rest of its scan, and the FIFO must hold the row burst:
///   an output row is `Wo·G'` beats (`G' = G`, `G·Dk²` in conv mode) produced in
///   `(W + half)·G` scan cycles (conv: `Wo` windows of `Dk²` beats and `(W + half − Wo)·G`
///   empty positions); meanwhile the pointwise stage takes `row_cycles·Bb·G'/X` beats, and
///   its free bank `Bb·G'` more if it keeps up over a period (then it waits at the gap and
///   starts the row with a bank free): `excess = Wo·G' − row_cycles·Bb·G'/X − bank`. The
///   depthwise engine's own 32-beat FIFO is left as margin. The worst layer has the smallest
///   block `Bb` its row allows and the most N-tiles that still leave the stall harmful.
/// * **Cap** `B·MT` (one block of input, the largest block and M-tiles): with a whole block
///   waiting whenever a pixel bank frees, the pointwise stage never waits for a beat the
///   depthwise stage could have made.
///
/// The worst layers are nearly balanced, stride 2: e.g. on an engine of P = R 8, C 4,
/// 112×112×1024, the layer 112×112×1024 → 16 needs 4096 beats, while MobileNet-v1's own layers need only the round trip
/// ([`fifo_depth_for_layers`], the tests). Conv mode is included when the pointwise `max_m`
/// takes a conv layer (`M' = G·Dk²·P`). A sufficient bound from rates, not a proof: tests
/// check it against the stepped model with an unbounded FIFO.
pub fn fifo_depth_for(engine: &EngineConfig, pointwise: &PointwiseConfig) -> (usize, String) {
    let burst = worst_burst(engine, pointwise);
    let e = burst.map_or(0, |b| b.excess as usize);
    let depth = (FIFO_ROUND_TRIP + e).next_power_of_two().clamp(FIFO_ROUND_TRIP, MAX_FIFO_DEPTH);
    let (b, mt) = (pointwise.max_block(), pointwise.max_m_tiles());
    let block_depth = (b * mt).next_power_of_two().clamp(FIFO_ROUND_TRIP, MAX_FIFO_DEPTH);
    if block_depth < depth {
        let reason = format!(
            "{block_depth} beats: one pointwise block of input (B·MT = {b}·{mt}, rounded up to a power of two), \
             below the {depth} of the worst depthwise row burst: with a whole block waiting whenever a pixel \
             bank frees, the pointwise stage never waits for a beat the depthwise stage could have made"
        );
        return (block_depth, reason);
    }
    let reason = match burst {
        None => format!(
            "{depth} beats: the FIFO's ready/valid round trip (3 cycles through, registered ready); \
             no layer's depthwise row burst outruns the pointwise stage's rate and free bank where a \
             depthwise stall would cost cycles"
        ),
        Some(b) => format!(
            "{depth} beats: {FIFO_ROUND_TRIP} for the round trip + {e} of the worst depthwise row burst \
             ({} stride {}, W = {}, G = {}, NT = {}, block {}: {} beats in {} cycles beyond the pointwise \
             stage's rate and free bank), rounded up to a power of two",
            if b.conv { "conv" } else { "DSC" },
            b.stride,
            b.width,
            b.groups,
            b.n_tiles,
            b.block,
            b.row_beats,
            b.row_cycles
        ),
    };
    (depth, reason)
}

/// The layer shape with the largest positive row-burst excess ([`fifo_depth_for`]), if any.
pub fn worst_burst(engine: &EngineConfig, pointwise: &PointwiseConfig) -> Option<FifoBurst> {
    let w = engine.window();
    let (dk, p, half) = (engine.dk(), engine.lanes(), w.half());
    let (r, b_max) = (pointwise.array().rows() as u64, pointwise.max_block());
    let mut worst: Option<FifoBurst> = None;
    for stride in [1, 2] {
        let ho_max = engine.max_height().div_ceil(stride);
        // The smallest block among the multi-block layers whose rows hold `wo` pixels.
        let min_block = |wo: usize| {
            (1..=ho_max)
                .map(|ho| ho * wo)
                .filter(|&px| px > b_max)
                .map(|px| px.div_ceil(px.div_ceil(b_max)))
                .min()
        };
        let blocks: Vec<Option<usize>> = (0..=engine.max_width().div_ceil(stride)).map(min_block).collect();
        for conv in [false, true] {
            let taps = if conv { dk * dk } else { 1 };
            let g_max = engine.max_groups().min(pointwise.max_m() / (taps * p));
            for g in 1..=g_max {
                for width in 1..=engine.max_width().min(w.line_depth() / g) {
                    let wo = width.div_ceil(stride);
                    let Some(bb) = blocks[wo] else { continue };
                    let (g, wo, bb, scan) = (g as u64, wo as u64, bb as u64, (width + half) as u64);
                    let mt = g * taps as u64;
                    // Scan cycles per output pixel inside a row, per output-row period, and
                    // the gap of a period in which no pixel is made (row ends, stride rows).
                    let pace = if conv { mt + (stride as u64 - 1) * g } else { stride as u64 * g };
                    let row_cycles = if conv { wo * mt + (scan - wo) * g } else { scan * g };
                    let period = row_cycles + (stride as u64 - 1) * scan * g;
                    let gap = period - wo * pace;
                    // Cycles the depthwise engine may need for a block from where it stalled
                    // (an emitting position: a stall holds a window); a stall is harmless when
                    // the block's compute X covers them, so the worst NT is the largest with
                    // X below them.
                    let t_dw = bb * pace + bb.div_ceil(wo) * gap;
                    let t = bb.max(r).max(PW_MIN_TILE as u64);
                    let Some(room) = t_dw.checked_sub(r + 2) else { continue };
                    let nt = (room / (mt * t)).min(pointwise.max_n_tiles_for((mt * r) as usize) as u64);
                    if nt == 0 {
                        continue;
                    }
                    let x = r + 1 + mt * nt * t;
                    let row_beats = wo * mt;
                    // The free bank takes a burst only if the pointwise stage keeps up over
                    // a period (it then waits at the gap and starts the row with a bank free).
                    let bank = if x * wo > period * bb { 0 } else { bb * mt };
                    let taken = row_cycles * bb * mt / x + bank;
                    if row_beats > taken && worst.map_or(true, |w| row_beats - taken > w.excess) {
                        worst = Some(FifoBurst {
                            conv,
                            stride,
                            width,
                            groups: g as usize,
                            n_tiles: nt as usize,
                            block: bb as usize,
                            row_beats,
                            row_cycles,
                            excess: row_beats - taken,
                        });
                    }
                }
            }
        }
    }
    worst
}

/// The smallest FIFO depth (a power of two) at which every layer of `layers` runs in as few
/// cycles as with the largest FIFO, found with [`dsc_cycles`], and a one-line reason. A
/// tighter figure than [`fifo_depth_for`] when the network is known: the depth at which no
/// stage of these layers waits on the other for want of buffering.
pub fn fifo_depth_for_layers(cfg: &DscConfig, layers: &[DscLayer]) -> Result<(usize, String)> {
    let unbounded = cfg.with_fifo_depth(MAX_FIFO_DEPTH)?;
    let target: Vec<u64> = layers.iter().map(|l| dsc_cycles(&unbounded, l)).collect();
    let mut depth = 2;
    while depth < MAX_FIFO_DEPTH {
        let c = cfg.with_fifo_depth(depth)?;
        if layers.iter().zip(&target).all(|(l, &t)| dsc_cycles(&c, l) == t) {
            break;
        }
        depth *= 2;
    }
    let reason = format!(
        "{depth} beats: the smallest power of two at which each of the {} layers takes as few cycles as with a {MAX_FIFO_DEPTH}-beat FIFO (cycle model)",
        layers.len()
    );
    Ok((depth, reason))
}

impl DscConfig {
    /// The fused engine of `engine` and `pointwise`, with the FIFO depth of
    /// [`fifo_depth_for`]. Errors: `P ≠ R` (a depthwise beat must be a pointwise beat),
    /// `Dk` or `P` disagreeing between the two, `max_channels` above the pointwise `max_m`.
    ///
    /// `pixels_per_beat Q > 1` is refused: the fused engine feeds its depthwise stage from one
    /// pixel per beat (the previous layer's pointwise output), and its cycle model and FIFO
    /// rule assume the narrow window generator.
    pub fn new(engine: EngineConfig, pointwise: PointwiseConfig) -> Result<Self> {
        if engine.pixels_per_beat() > 1 {
            return Err(ModelError::InvalidParameter(format!(
                "fused engine: pixels_per_beat Q = {} is not supported (the fused engine takes one pixel per beat; Q > 1 is for the depthwise engine alone)",
                engine.pixels_per_beat()
            )));
        }
        let (p, r) = (engine.lanes(), pointwise.array().rows());
        if p != r {
            return Err(ModelError::InvalidParameter(format!(
                "fused engine: depthwise lanes P = {p} must equal the systolic rows R = {r} (a depthwise beat is a pointwise beat)"
            )));
        }
        if engine.max_channels() > pointwise.max_m() {
            return Err(ModelError::InvalidParameter(format!(
                "fused engine: max_channels = {} exceeds the pointwise max_m = {}",
                engine.max_channels(),
                pointwise.max_m()
            )));
        }
        let (fifo_depth, _) = fifo_depth_for(&engine, &pointwise);
        Ok(DscConfig { engine, pointwise, fifo_depth })
    }

    /// The same engine with another FIFO depth (a power of two, 2..=32768), e.g. to measure
    /// what a smaller FIFO costs.
    pub fn with_fifo_depth(self, depth: usize) -> Result<Self> {
        if !depth.is_power_of_two() || !(2..=MAX_FIFO_DEPTH).contains(&depth) {
            return Err(ModelError::InvalidParameter(format!(
                "fused engine: FIFO depth {depth} must be a power of two in 2..={MAX_FIFO_DEPTH}"
            )));
        }
        Ok(DscConfig { fifo_depth: depth, ..self })
    }

    pub fn engine(&self) -> &EngineConfig {
        &self.engine
    }
    pub fn pointwise(&self) -> &PointwiseConfig {
        &self.pointwise
    }
    /// Beats of the inter-stage FIFO.
    pub fn fifo_depth(&self) -> usize {
        self.fifo_depth
    }
    /// Address bits of the inter-stage FIFO: `log2(fifo_depth)`.
    pub fn fifo_addr_bits(&self) -> usize {
        self.fifo_depth.trailing_zeros() as usize
    }

    /// A DSC layer: input `h × w × m`, `n` output channels, depthwise stride. Errors when
    /// either stage cannot take it ([`WindowLayer::new`], [`PointwiseConfig::layer`]).
    pub fn layer(&self, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<DscLayer> {
        let window = self.engine.window().layer(h, w, m, stride)?;
        let pointwise = self.pointwise.layer(m, n, window.rows.out * window.cols.out)?;
        Ok(DscLayer { window, pointwise })
    }

    /// A standard `Dk×Dk` convolution `h × w × m → n` in conv mode: the depthwise engine in
    /// im2col mode feeds the pointwise stage `M' = G·Dk²·P` channels per output pixel
    /// (`G = ceil(m/P)`, see [`crate::im2col`]), so the config's pointwise `max_m` must be at
    /// least `M'`. Errors: the window geometry ([`im2col_layer`]), `M'` above `max_m` (named,
    /// with the `max_m` the layer needs), `n` or the pixel count beyond the pointwise stage.
    pub fn conv_layer(&self, h: usize, w: usize, m: usize, n: usize, stride: usize) -> Result<DscLayer> {
        if !self.engine.im2col() {
            return Err(ModelError::InvalidParameter(format!(
                "standard conv {h}×{w}×{m} → {n}: this engine is generated without im2col mode \
                 ([engine] im2col = false)"
            )));
        }
        let window = im2col_layer(&self.engine.window(), h, w, m, stride)?;
        let mp = im2col_channels(&window);
        if mp > self.pointwise.max_m() {
            return Err(ModelError::InvalidParameter(format!(
                "standard conv {h}×{w}×{m} → {n}: the pointwise stage sees M' = G·Dk²·P = {}·{}·{} = {mp} \
                 channels, above its max_m = {} (generate the engine with max_m ≥ {mp})",
                window.groups,
                window.dk * window.dk,
                window.lanes,
                self.pointwise.max_m()
            )));
        }
        let pointwise = self.pointwise.layer(mp, n, window.rows.out * window.cols.out)?;
        Ok(DscLayer { window, pointwise })
    }
}

/// Occupancy of a `dsc_hw::stream::StreamFifo` without its data: the RAM's beats, the read
/// in flight and the two-entry output queue, updated as the RTL's registers are.
#[derive(Debug, Clone, Copy)]
pub struct FifoTiming {
    depth: u64,
    ram: u64,
    items: u64,
    inflight: bool,
    q0: bool,
    q1: bool,
}

impl FifoTiming {
    pub fn new(depth: u64) -> Self {
        FifoTiming { depth, ram: 0, items: 0, inflight: false, q0: false, q1: false }
    }
    /// `inp.tready` (registered: depends on no input).
    pub fn ready(&self) -> bool {
        self.items != self.depth
    }
    /// `out.tvalid`.
    pub fn valid(&self) -> bool {
        self.q0
    }
    /// One clock edge with `in_valid` and `out_ready`; returns (beat taken in, beat popped).
    pub fn step(&mut self, in_valid: bool, out_ready: bool) -> (bool, bool) {
        let fire = in_valid && self.ready();
        let pop = self.q0 && out_ready;
        let issue = self.ram > 0
            && ((!self.q1 && !(self.q0 && self.inflight)) || (pop && !(self.q1 && self.inflight)));
        if pop {
            if self.q1 {
                self.q1 = self.inflight;
            } else if !self.inflight {
                self.q0 = false;
            }
        } else if self.inflight {
            if self.q0 {
                self.q1 = true;
            } else {
                self.q0 = true;
            }
        }
        self.ram = self.ram + fire as u64 - issue as u64;
        self.inflight = issue;
        self.items = self.items + fire as u64 - pop as u64;
        (fire, pop)
    }
}

/// Exact cycles of `layer` on the fused engine, from the cycle the first input beat is taken
/// to the cycle the last output beat leaves, inclusive, with an always-valid input and an
/// always-ready output (the timing model in this module's docs).
pub fn dsc_cycles(cfg: &DscConfig, layer: &DscLayer) -> u64 {
    let pipe = (lane_latency(&cfg.engine) + REQUANT_LATENCY) as usize;
    stepped_cycles(cfg, layer, Producer::Lanes { pipe })
}

/// Exact cycles of a standard convolution ([`DscConfig::conv_layer`]) on the fused engine in
/// conv mode, counted as [`dsc_cycles`]: the same stepped model with the im2col producer in
/// place of the lanes — a window is accepted while the credits leave room for its `Dk²` beats
/// (`credits ≤ 32 − Dk²`) and the serializer is empty or on its last tap, and its beats enter
/// the depthwise FIFO in the `Dk²` cycles after (as [`crate::im2col::im2col_cycles`]).
pub fn conv_cycles(cfg: &DscConfig, layer: &DscLayer) -> u64 {
    let taps = (layer.window.dk * layer.window.dk) as u64;
    stepped_cycles(cfg, layer, Producer::Serializer { taps })
}

/// Config-port writes of a conv-mode layer: the pointwise stage's and the depthwise engine's
/// im2col registers ([`IM2COL_CONFIG_WRITES`]).
pub fn conv_config_writes(cfg: &DscConfig, layer: &DscLayer) -> u64 {
    IM2COL_CONFIG_WRITES + pointwise_config_writes(&cfg.pointwise, &layer.pointwise) as u64
}

/// What sits between the window generator and the depthwise engine's output FIFO.
#[derive(Debug, Clone, Copy)]
enum Producer {
    /// Depthwise mode: a window accepted in cycle `t` enters the FIFO as one beat in cycle
    /// `t + pipe`.
    Lanes { pipe: usize },
    /// im2col mode: the serializer; a window accepted in cycle `t` enters the FIFO as `taps`
    /// beats in cycles `t + 1 ..= t + taps`.
    Serializer { taps: u64 },
}

fn stepped_cycles(cfg: &DscConfig, layer: &DscLayer, producer: Producer) -> u64 {
    let wl = &layer.window;
    let pl = &layer.pointwise;
    // Emission flag of every scan position (groups included), in scan order.
    let emits = wl.scan_emits();
    // Beats per accepted window (its credits) and the highest credit count that accepts one.
    let (beats, room, pipe) = match producer {
        Producer::Lanes { pipe } => (1, DW_OUTPUT_FIFO_DEPTH - 1, pipe),
        Producer::Serializer { taps } => (taps, DW_OUTPUT_FIFO_DEPTH - taps, 0),
    };

    let a = cfg.pointwise.array();
    let (r_rows, lat) = (a.rows() as u64, crate::systolic::ws_array_latency(&a) as u64);
    let mt = pl.m.div_ceil(a.rows()) as u64;
    let nt = pl.n.div_ceil(a.cols()) as u64;
    let nb = pl.pixels.div_ceil(pl.block);
    let block_pixels = |b: usize| if b + 1 == nb { pl.pixels - b * pl.block } else { pl.block } as u64;
    let (mut c_end, mut o_end) = (vec![0u64; nb], vec![0u64; nb]);
    let back = |v: &Vec<u64>, b: usize, k: usize| if b >= k { v[b - k] } else { 0 };

    // Window generator: the next scan position.
    let mut n = 0usize;
    let mut running = true;
    let mut ov = false;
    let mut credits = 0u64;
    // Depthwise mode: accepted windows by the cycle they enter the depthwise FIFO (a ring of
    // `pipe + 1`). im2col mode: beats left in the serializer.
    let mut ring = vec![false; pipe + 1];
    let mut ser_left = 0u64;
    let mut dw_fifo = FifoTiming::new(DW_OUTPUT_FIFO_DEPTH);
    let mut mid = FifoTiming::new(cfg.fifo_depth as u64);
    // Pointwise input side.
    let (mut blk, mut taken) = (0usize, 0u64);
    let mut t = 0u64;
    loop {
        // Pointwise input ready: a block left and its bank free.
        let pw_ready = blk < nb && (blk < 2 || t >= c_end[blk - 2]);
        // The generator's output is taken while the FIFO has room for the window's beats
        // and, in im2col mode, the serializer is empty or on its last tap.
        let wr = credits <= room && ser_left <= 1;
        let emit = running && emits[n];
        let fire = running && (!emit || !ov || wr);
        let accept = ov && wr;
        let arriving = match producer {
            Producer::Lanes { pipe } => {
                let slot = (t as usize) % (pipe + 1);
                let arriving = ring[slot];
                ring[slot] = false;
                if accept {
                    ring[(t as usize + pipe) % (pipe + 1)] = true;
                }
                arriving
            }
            Producer::Serializer { .. } => {
                let arriving = ser_left > 0;
                ser_left -= arriving as u64;
                if accept {
                    ser_left = beats;
                }
                arriving
            }
        };
        let mid_ready = mid.ready();
        let dw_valid = dw_fifo.valid();
        let (_, sent) = dw_fifo.step(arriving, mid_ready);
        let (_, popped) = mid.step(dw_valid, pw_ready);
        credits = credits + if accept { beats } else { 0 } - sent as u64;
        ov = (ov && !wr) || (fire && emit);
        if fire {
            n += 1;
            if n == emits.len() {
                running = false;
                n = 0;
            }
        }
        if popped {
            taken += 1;
            let bb = block_pixels(blk);
            if taken == bb * mt {
                let b = blk;
                let in_end = t + 1;
                let tile = bb.max(r_rows).max(PW_MIN_TILE as u64);
                let dec = in_end.max(back(&o_end, b, 2)).max(back(&c_end, b, 1));
                c_end[b] = dec + r_rows + mt * nt * tile + 1;
                let ready = c_end[b] - (tile - bb) + lat + PW_POST_LATENCY;
                o_end[b] = ready.max(back(&o_end, b, 1)) + bb * nt;
                blk += 1;
                taken = 0;
                if blk == nb {
                    break;
                }
            }
        }
        t += 1;
    }
    o_end[nb - 1] + PW_OUT_LATENCY
}

/// Which stage sets the throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Depthwise,
    Pointwise,
}

impl Stage {
    /// The stage that bounds a fused layer: the slower one alone (a tie counts as the
    /// depthwise stage).
    pub fn slower(dw_alone: u64, pw_alone: u64) -> Stage {
        if dw_alone >= pw_alone {
            Stage::Depthwise
        } else {
            Stage::Pointwise
        }
    }

    /// `"dw"` or `"pw"`, as tables and JSON name the stages.
    pub fn short(self) -> &'static str {
        match self {
            Stage::Depthwise => "dw",
            Stage::Pointwise => "pw",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Depthwise => "depthwise",
            Stage::Pointwise => "pointwise",
        })
    }
}

/// Timing figures of a layer on the fused engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DscTiming {
    /// [`dsc_cycles`].
    pub cycles: u64,
    /// Each stage alone ([`engine_cycles`], [`pointwise_cycles`]), always-valid input.
    pub dw_alone: u64,
    pub pw_alone: u64,
    /// Useful multiplications ÷ multipliers of the busier stage: `max(Ho·Wo·M/P,
    /// Ho·Wo·M·N/(R·C))` — the count with every multiplier of the bottleneck busy every cycle.
    pub ideal: u64,
    /// The stage with the larger stand-alone count.
    pub bottleneck: Stage,
    /// Useful multiplications ÷ (multipliers × [`Self::cycles`]), per stage.
    pub dw_utilization: f64,
    pub pw_utilization: f64,
    /// Config-port writes (cycles) to load the layer.
    pub config_cycles: u64,
}

/// [`dsc_cycles`] with the ideal count, the bottleneck stage and the utilizations.
pub fn dsc_timing(cfg: &DscConfig, layer: &DscLayer) -> DscTiming {
    let cycles = dsc_cycles(cfg, layer);
    let dw_alone = engine_cycles(&cfg.engine, &layer.window);
    let pw_alone = pointwise_cycles(&cfg.pointwise, &layer.pointwise);
    let a = cfg.pointwise.array();
    let pl = &layer.pointwise;
    let taps = cfg.engine.taps() as f64;
    let dw_mults = (pl.pixels * pl.m) as f64 * taps;
    let pw_mults = (pl.pixels * pl.m * pl.n) as f64;
    let dw_units = cfg.engine.lanes() as f64 * taps;
    let pw_units = (a.rows() * a.cols()) as f64;
    let ideal = (dw_mults / dw_units).ceil().max((pw_mults / pw_units).ceil()) as u64;
    DscTiming {
        cycles,
        dw_alone,
        pw_alone,
        ideal,
        bottleneck: Stage::slower(dw_alone, pw_alone),
        dw_utilization: dw_mults / (dw_units * cycles as f64),
        pw_utilization: pw_mults / (pw_units * cycles as f64),
        config_cycles: dsc_config_writes(cfg, layer),
    }
}

/// Config-port writes of a layer (`dsc_hw::engine::DscProgram`): the pointwise stage's and
/// the depthwise engine's.
pub fn dsc_config_writes(cfg: &DscConfig, layer: &DscLayer) -> u64 {
    engine_config_writes(&cfg.engine, &layer.window)
        + pointwise_config_writes(&cfg.pointwise, &layer.pointwise) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systolic::{acc_bits_for_products, Dataflow, SystolicConfig};

    fn mobilenet() -> DscConfig {
        let e = EngineConfig::new(3, 8, 8, 8, 112, 112, 1024).unwrap();
        let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
        DscConfig::new(e, PointwiseConfig::new(a, 1024, 1024, 64).unwrap()).unwrap()
    }

    /// configs/mobilenet-v1.toml: the window 224 wide, `max_m` 1024 (conv0 in im2col mode).
    fn mobilenet_224() -> DscConfig {
        let e = EngineConfig::new(3, 8, 8, 8, 224, 224, 1024).unwrap();
        let a = SystolicConfig::new(8, 8, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
        DscConfig::new(e, PointwiseConfig::new(a, 1024, 1024, 64).unwrap()).unwrap()
    }

    /// An engine of P = R 8, C 4, 112×112×1024 admits 112×112×1024 → 16 at stride 2, pointwise-bound by a hair:
    /// its output rows (half-rate bursts between skipped rows) outrun the pointwise stage, a
    /// block straddles the skipped rows, and a 4-beat FIFO costs cycles; the rule's depth does
    /// not. The 224-wide engine's burst bound is above one block of input, which caps it.
    #[test]
    fn fifo_depth_rule() {
        let e = EngineConfig::new(3, 8, 8, 4, 112, 112, 1024).unwrap();
        let a = SystolicConfig::new(8, 4, acc_bits_for_products(1024), 1024, Dataflow::WeightStationary).unwrap();
        let c = DscConfig::new(e, PointwiseConfig::new(a, 1024, 1024, 64).unwrap()).unwrap();
        let b = worst_burst(c.engine(), c.pointwise()).unwrap();
        assert_eq!(c.fifo_depth(), (FIFO_ROUND_TRIP + b.excess as usize).next_power_of_two());
        assert_eq!((c.fifo_depth(), c.fifo_addr_bits()), (4096, 12));
        let (_, why) = fifo_depth_for(c.engine(), c.pointwise());
        assert!(why.contains("worst depthwise row burst (DSC stride 2"), "{why}");
        let l = c.layer(112, 112, 1024, 16, 2).unwrap();
        let inf = c.with_fifo_depth(MAX_FIFO_DEPTH).unwrap();
        assert_eq!(dsc_cycles(&c, &l), dsc_cycles(&inf, &l));
        assert!(dsc_cycles(&c.with_fifo_depth(FIFO_ROUND_TRIP).unwrap(), &l) > dsc_cycles(&inf, &l));
        let big = mobilenet_224();
        let (d, why) = fifo_depth_for(big.engine(), big.pointwise());
        assert_eq!(d, 64 * 128);
        assert!(why.contains("one pointwise block of input (B·MT = 64·128"), "{why}");
        assert!(c.with_fifo_depth(100).is_err());
        assert!(c.with_fifo_depth(1).is_err());
        assert_eq!(c.with_fifo_depth(8).unwrap().fifo_depth(), 8);
    }

    /// The rule checked against the stepped model: with the chosen depth every layer takes as
    /// many cycles as with a 32768-beat FIFO — MobileNet-v1 (α = 1 and 0.25, four
    /// resolutions, conv0 in conv mode, every DSC layer) on its engine, and hundreds of random
    /// DSC and conv layers on the small test engines.
    #[test]
    fn chosen_depth_gives_the_unbounded_counts() {
        use crate::cost::Stage as NetStage;
        use crate::network::mobilenet_v1;
        let check = |c: &DscConfig, l: &DscLayer, conv: bool, what: &str| {
            let inf = c.with_fifo_depth(MAX_FIFO_DEPTH).unwrap();
            let f = if conv { conv_cycles } else { dsc_cycles };
            assert_eq!(f(c, l), f(&inf, l), "{what}: FIFO depth {}", c.fifo_depth());
        };
        let c = mobilenet_224();
        let mut n = 0;
        for alpha in [1.0, 0.25] {
            for res in [224, 192, 160, 128] {
                for stage in mobilenet_v1(alpha, res).unwrap().stages() {
                    match stage {
                        NetStage::Dsc { names, block } => {
                            let (dw, pw) = (block.dw(), block.pw());
                            let l = c.layer(dw.df_in(), dw.df_in(), dw.m(), pw.n(), dw.stride()).unwrap();
                            check(&c, &l, false, &format!("α {alpha} {res}: {}", names.0));
                        }
                        NetStage::Layer { name, shape } if shape.dk() == 3 => {
                            let (h, s) = (shape.df_in(), shape.stride());
                            let l = c.conv_layer(h, h, shape.m(), shape.n(), s).unwrap();
                            check(&c, &l, true, &format!("α {alpha} {res}: {name}"));
                        }
                        NetStage::Layer { .. } => continue,
                    }
                    n += 1;
                }
            }
        }
        assert_eq!(n, 8 * 14);
        let mut rng = 0x5EED_F1F0_u64;
        let mut next = |k: usize| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as usize % k
        };
        let small = {
            let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
            let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
            DscConfig::new(e, PointwiseConfig::new(a, 8, 8, 4).unwrap()).unwrap()
        };
        for (c, conv_too) in [(small, false), (conv_cfg(1, 32, 4), true), (conv_cfg(3, 72, 2), true)] {
            for case in 0..200 {
                let (h, w, s) = (1 + next(12), 1 + next(12), 1 + case % 2);
                let n_out = 1 + next(c.pointwise().max_n());
                let m = 2 * (1 + next(4));
                let l = c.layer(h, w, m, n_out, s).unwrap();
                check(&c, &l, false, &format!("DSC {h}×{w}×{m} → {n_out} s{s}"));
                if conv_too {
                    let m = 1 + next(8);
                    let l = c.conv_layer(h, w, m, n_out, s).unwrap();
                    check(&c, &l, true, &format!("conv {h}×{w}×{m} → {n_out} s{s}"));
                }
            }
        }
    }

    /// MobileNet-v1's layers on the 8×8 engine: the pointwise stage is the bottleneck of
    /// every layer by far, so the depthwise engine's own 32-beat FIFO nearly keeps it fed: a
    /// 4-beat FIFO between the stages gives the unbounded counts, 2 beats do not.
    #[test]
    fn mobilenet_needs_a_small_fifo() {
        let c = mobilenet();
        let layers: Vec<DscLayer> = [(112, 32, 64, 1), (112, 64, 128, 2), (56, 128, 128, 1), (56, 128, 256, 2), (28, 256, 256, 1), (28, 256, 512, 2), (14, 512, 512, 1), (14, 512, 1024, 2), (7, 1024, 1024, 1)]
            .iter()
            .map(|&(h, m, n, s)| c.layer(h, h, m, n, s).unwrap())
            .collect();
        let (d, why) = fifo_depth_for_layers(&c, &layers).unwrap();
        assert_eq!(d, 4, "{why}");
        let small = c.with_fifo_depth(2).unwrap();
        assert!(layers.iter().any(|l| dsc_cycles(&small, l) > dsc_cycles(&c, l)));
    }

    #[test]
    fn lanes_must_equal_rows() {
        let e = EngineConfig::new(3, 4, 8, 8, 16, 16, 64).unwrap();
        let a = SystolicConfig::new(8, 8, 24, 64, Dataflow::WeightStationary).unwrap();
        let err = DscConfig::new(e, PointwiseConfig::new(a, 64, 64, 8).unwrap()).unwrap_err();
        assert!(err.to_string().contains("P = 4"), "{err}");
    }

    #[test]
    fn fifo_timing_has_three_cycles_latency() {
        let mut f = FifoTiming::new(4);
        assert_eq!(f.step(true, true), (true, false));
        assert!(!f.valid());
        f.step(false, true);
        assert!(!f.valid());
        f.step(false, true);
        assert!(f.valid());
        assert_eq!(f.step(false, true), (false, true));
    }

    /// Every layer is at least as slow as either stage alone and at least the ideal; a
    /// pointwise-bound MobileNet layer with the computed FIFO runs at the pointwise pace.
    #[test]
    fn fused_count_is_bounded_by_the_stages() {
        let c = mobilenet();
        for (h, m, n, s) in [(112, 32, 64, 1), (112, 64, 128, 2), (14, 512, 512, 1), (7, 1024, 1024, 1), (9, 8, 8, 2)] {
            let l = c.layer(h, h, m, n, s).unwrap();
            let tm = dsc_timing(&c, &l);
            assert!(tm.cycles >= tm.dw_alone.max(tm.pw_alone) && tm.cycles >= tm.ideal, "{h} {m} {n}: {tm:?}");
        }
        let l = c.layer(14, 14, 512, 512, 1).unwrap();
        let tm = dsc_timing(&c, &l);
        assert_eq!(tm.bottleneck, Stage::Pointwise);
        // Only the start waits: the depthwise stage delivers the first block slower than an
        // always-valid input would.
        assert!(tm.cycles < tm.pw_alone + tm.dw_alone / 4, "{tm:?}");
    }

    /// `P = R = 2`, `C` columns, up to 12×12×8, pointwise `max_m` 72 (= 4·9·2: every conv
    /// layer of 8 channels), blocks of ≤ `b`.
    fn conv_cfg(c: usize, max_n: usize, b: usize) -> DscConfig {
        let e = EngineConfig::new(3, 2, 2, c, 12, 12, 8).unwrap();
        let a = SystolicConfig::new(2, c, acc_bits_for_products(72), 72, Dataflow::WeightStationary).unwrap();
        DscConfig::new(e, PointwiseConfig::new(a, 72, max_n, b).unwrap()).unwrap()
    }

    #[test]
    fn conv_layer_needs_max_m_of_the_im2col_channels() {
        let c = conv_cfg(3, 8, 4);
        let l = c.conv_layer(5, 7, 3, 8, 2).unwrap();
        assert_eq!((l.window.groups, l.pointwise.m, l.pointwise.pixels), (2, 36, 3 * 4));
        assert_eq!(c.conv_layer(12, 12, 8, 8, 1).unwrap().pointwise.m, 72);
        // The DSC-only config (max_m = 8) cannot take any 3×3 conv: M' ≥ 18.
        let small = {
            let e = EngineConfig::new(3, 2, 2, 3, 12, 12, 8).unwrap();
            let a = SystolicConfig::new(2, 3, acc_bits_for_products(8), 8, Dataflow::WeightStationary).unwrap();
            DscConfig::new(e, PointwiseConfig::new(a, 8, 8, 4).unwrap()).unwrap()
        };
        let err = small.conv_layer(5, 5, 1, 4, 1).unwrap_err().to_string();
        assert!(err.contains("M' = G·Dk²·P = 1·9·2 = 18") && err.contains("max_m ≥ 18"), "{err}");
        for (h, w, m, n, s) in [(13, 4, 2, 2, 1), (4, 4, 0, 2, 1), (4, 4, 9, 2, 1), (4, 4, 2, 9, 1), (4, 4, 2, 0, 1), (4, 4, 2, 2, 3)] {
            assert!(c.conv_layer(h, w, m, n, s).is_err(), "{h}×{w}×{m} → {n} s{s}");
        }
    }

    /// Conv mode is never faster than either stage alone (the im2col producer, the pointwise
    /// stage over `M'`); with the computed FIFO depth a pointwise-bound conv layer runs as
    /// with the largest FIFO (the depth rule holds in conv mode); and the config writes are
    /// the two stages'.
    #[test]
    fn conv_count_is_bounded_by_the_stages_and_the_fifo_suffices() {
        use crate::im2col::im2col_cycles;
        let c = conv_cfg(3, 8, 4);
        let big = c.with_fifo_depth(MAX_FIFO_DEPTH).unwrap();
        for (h, w, m, n, s) in [(12, 12, 8, 8, 1), (12, 12, 8, 8, 2), (7, 5, 3, 1, 1), (1, 1, 1, 1, 1), (12, 3, 5, 7, 2)] {
            let l = c.conv_layer(h, w, m, n, s).unwrap();
            let cyc = conv_cycles(&c, &l);
            let (prod, pw) = (im2col_cycles(c.engine(), &l.window), pointwise_cycles(c.pointwise(), &l.pointwise));
            assert!(cyc >= prod.max(pw), "{h}×{w}×{m} → {n}: {cyc} < max({prod}, {pw})");
            if pw > prod {
                assert_eq!(cyc, conv_cycles(&big, &l), "{h}×{w}×{m} → {n}: the FIFO depth limits it");
            }
            assert_eq!(conv_config_writes(&c, &l), 7 + pointwise_config_writes(c.pointwise(), &l.pointwise) as u64);
        }
    }

    /// Pointwise-bound in both modes on a wide, deep pointwise stage: DSC ÷ conv cycles is
    /// close to `1/Dk²`, below the MAC ratio `1/N + 1/Dk²`.
    #[test]
    fn conv_mode_costs_dk2_times_the_pointwise_work() {
        let c = conv_cfg(1, 32, 4);
        let (d, v) = (c.layer(12, 12, 8, 32, 1).unwrap(), c.conv_layer(12, 12, 8, 32, 1).unwrap());
        let ratio = dsc_cycles(&c, &d) as f64 / conv_cycles(&c, &v) as f64;
        assert!((ratio * 9.0 - 1.0).abs() < 0.02, "{ratio}");
        assert!(ratio < 1.0 / 32.0 + 1.0 / 9.0);
    }

    #[test]
    fn wide_input_port_is_refused() {
        let e = EngineConfig::new(3, 4, 4, 4, 16, 16, 64).unwrap().with_pixels_per_beat(4).unwrap();
        let a = SystolicConfig::new(4, 4, 24, 64, Dataflow::WeightStationary).unwrap();
        let err = DscConfig::new(e, PointwiseConfig::new(a, 64, 64, 8).unwrap()).unwrap_err().to_string();
        assert!(err.contains("pixels_per_beat Q = 4"), "{err}");
    }
}

