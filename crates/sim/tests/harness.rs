//! The harness on small blocks defined here: Verilator against the Rust reference and against
//! rust-hdl's simulator, cycle by cycle; wide ports; caching; every error case.

mod common;

use common::*;
use dsc_sim::stream::{run_until, step};
use dsc_sim::*;
use rust_hdl::prelude::{simulate, Block, Clock};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::OnceLock;

fn counter() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| compile("counter", Counter::default()))
}

fn stream_inc() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| compile("stream_inc", StreamInc::default()))
}

#[test]
fn ports_are_probed_with_clean_names() {
    let mut b = StreamInc::default();
    let d = Design::from_block("stream_inc", &mut b).unwrap();
    let p = d.port("data_in_tdata").unwrap();
    assert_eq!(p.hdl_name, "data_in$tdata");
    assert_eq!((p.direction, p.width), (Direction::Input, 8));
    assert_eq!(d.port("data_in_tready").unwrap().direction, Direction::Output);
    assert!(d.port("clock").unwrap().clock);
    assert_eq!(d.ports.iter().filter(|p| p.clock).count(), 1);
}

#[test]
fn counter_matches_reference_and_rust_hdl_cycle_for_cycle() {
    let mut m = counter().model().unwrap();
    let mut hdl = Counter::default();
    hdl.connect_all();
    let mut reference = CounterRef::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for cycle in 0..2000u64 {
        let (a, b) = (rng.gen_range(0..256u64), rng.gen_range(0..256u64));
        let en = rng.gen_bool(0.7);
        // Low words all ones now and then, so the count's carry crosses the 32/64-bit words.
        let wide_in = if rng.gen_bool(0.3) {
            (1u128 << 64) - 1 - rng.gen_range(0..4u128)
        } else {
            rng.gen::<u128>() & WIDE_MASK
        };
        m.set("a", a).unwrap();
        m.set("b", b).unwrap();
        m.set("en", en as u64).unwrap();
        m.set_id(m.port_id("wide_in").unwrap(), wide_in).unwrap();
        m.tick();

        hdl.a.next = a.into();
        hdl.b.next = b.into();
        hdl.en.next = en;
        hdl.wide_in.next = to_bits::<WIDE>(wide_in);
        hdl.clock.next = Clock::from(false);
        assert!(simulate(&mut hdl, 100));
        hdl.clock.next = Clock::from(true);
        assert!(simulate(&mut hdl, 100));

        reference.edge(a, b, en, wide_in);
        let wide_out = m.get_id(m.port_id("wide_out").unwrap()).unwrap();
        let got = (m.get("sum").unwrap(), m.get("count").unwrap(), wide_out);
        assert_eq!(got, (reference.sum, reference.count, reference.wide), "Verilator vs reference at cycle {cycle}");
        let rh = (hdl.sum.val().to_u64(), hdl.count.val().to_u64(), hdl.wide_out.val().to_u128());
        assert_eq!(got, rh, "Verilator vs rust-hdl at cycle {cycle}");
    }
    assert_eq!(m.cycles(), 2000);
}

#[test]
fn wide_ports_round_trip_through_words() {
    let mut m = counter().model().unwrap();
    m.set("en", 0).unwrap();
    for pattern in [
        [0xdead_beef, 0x0123_4567, 0x89ab_cdef, 0xf],
        [u32::MAX, u32::MAX, u32::MAX, 0xf],
        [0, 0, 0, 0x8],
        [1, 0, 0, 0],
    ] {
        m.set_words("wide_in", &pattern).unwrap();
        assert_eq!(m.get_words("wide_in").unwrap(), pattern);
        m.tick();
        // count is 0 (en low from power-up), so the register holds the input unchanged.
        assert_eq!(m.get_words("wide_out").unwrap(), pattern);
    }
    // Fewer words zero-extend; bits beyond 100 are rejected, not truncated.
    m.set_words("wide_in", &[5]).unwrap();
    assert_eq!(m.get_words("wide_in").unwrap(), vec![5, 0, 0, 0]);
    let e = m.set_words("wide_in", &[0, 0, 0, 0x10]).unwrap_err().to_string();
    assert!(e.contains("does not fit in 100 bits"), "{e}");
    let e = m.set_words("wide_in", &[0, 0, 0, 0, 1]).unwrap_err().to_string();
    assert!(e.contains("does not fit in 100 bits"), "{e}");
    let e = m.get("wide_out").unwrap_err().to_string();
    assert!(e.contains("100 bits wide"), "{e}");
}

#[test]
fn port_errors_are_reported() {
    let mut m = counter().model().unwrap();
    let e = m.set("nope", 1).unwrap_err().to_string();
    assert!(e.contains("unknown port `nope`") && e.contains("wide_in"), "{e}");
    assert!(m.get("nope").is_err());
    let e = m.set("a", 256).unwrap_err().to_string();
    assert!(e.contains("port `a`") && e.contains("does not fit in 8 bits"), "{e}");
    let e = m.set("sum", 1).unwrap_err().to_string();
    assert!(e.contains("is an output"), "{e}");
    let e = m.set("clock", 1).unwrap_err().to_string();
    assert!(e.contains("driven by tick()"), "{e}");
    if !counter().info().trace {
        // (Unless DSC_TRACE asked for traces in this run.)
        let e = m.open_trace(std::path::Path::new("x.vcd")).unwrap_err().to_string();
        assert!(e.contains("built without tracing"), "{e}");
    }
}

#[test]
fn stream_block_matches_rust_hdl_and_reference_under_stalls() {
    let data: Vec<Beat> = (0..300u32)
        .map(|i| Beat::new(((i * 37 + 11) % 256) as u128, i % 16 == 15))
        .collect();
    let expected: Vec<Beat> = data
        .iter()
        .map(|b| Beat::new((b.value().unwrap() + 1) % 256, b.last))
        .collect();
    for (src_stall, sink_stall, seed) in [(0.0, 0.0, 1), (0.3, 0.5, 2), (0.7, 0.2, 3), (0.1, 0.8, 4)] {
        let mut runs = Vec::new();
        let mut v = stream_inc().model().unwrap();
        runs.push(run_stream(&mut v, "data_in", "data_out", &data, src_stall, sink_stall, seed));
        let mut h = stream_inc_hdl();
        runs.push(run_stream(&mut h, "data_in", "data_out", &data, src_stall, sink_stall, seed));
        let beats: Vec<Beat> = runs[0].iter().map(|r| r.beat.clone()).collect();
        assert_eq!(beats, expected, "Verilator vs reference, stalls {src_stall}/{sink_stall}");
        assert_eq!(runs[0], runs[1], "Verilator vs rust-hdl (beats and cycles), stalls {src_stall}/{sink_stall}");
        if src_stall == 0.0 && sink_stall == 0.0 {
            // Full throughput: one beat per cycle after one cycle of latency.
            assert_eq!(runs[0].last().unwrap().cycle, data.len() as u64);
        }
    }
}

#[test]
fn stream_errors_are_reported() {
    let v = stream_inc().model().unwrap();
    let e = StreamSource::new(&v, "nope", 0.0, 0).err().unwrap().to_string();
    assert!(e.contains("missing `nope_tdata`"), "{e}");
    let e = StreamSink::new(&v, "data_out", 1.0, 0).err().unwrap().to_string();
    assert!(e.contains("stall probability 1 must be in [0, 1)"), "{e}");
    let mut v = stream_inc().model().unwrap();
    let mut src = StreamSource::new(&v, "data_in", 0.0, 0).unwrap();
    let mut sink = StreamSink::new(&v, "data_out", 0.0, 0).unwrap();
    src.push(Beat::new(0x100, false));
    let e = step(&mut v, &mut [&mut src], &mut [&mut sink]).unwrap_err().to_string();
    assert!(e.contains("does not fit in 8 bits"), "{e}");
    let e = run_until(&mut v, &mut [], &mut sink, 1, 10).unwrap_err().to_string();
    assert!(e.contains("timeout: 0 of 1 beats after 10 cycles"), "{e}");
}

#[test]
fn rebuild_is_a_cache_hit_and_instances_are_independent() {
    let first = counter();
    let mut b = Counter::default();
    let design = Design::from_block("counter", &mut b).unwrap();
    let second = build(&design, &options()).unwrap();
    assert!(second.info().cached, "second build must come from the cache");
    assert_eq!(second.info().key, first.info().key);
    eprintln!(
        "counter model: first build {:.2} s (cached: {}), second {:.3} s (cached)",
        first.info().seconds,
        first.info().cached,
        second.info().seconds
    );
    let mut m1 = first.model().unwrap();
    let mut m2 = second.model().unwrap();
    m1.set("en", 1).unwrap();
    m2.set("en", 0).unwrap();
    m1.ticks(5);
    m2.ticks(3);
    assert_eq!((m1.get("count").unwrap(), m2.get("count").unwrap()), (5, 0));
    assert_eq!((m1.cycles(), m2.cycles()), (5, 3));
}

#[test]
fn a_different_flag_is_a_different_model() {
    let mut b = Counter::default();
    let design = Design::from_block("counter", &mut b).unwrap();
    let traced = build(&design, &BuildOptions { trace: true, ..options() }).unwrap();
    assert_ne!(traced.info().key, counter().info().key);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("traces");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("counter-{}.vcd", std::process::id()));
    let mut m = traced.model().unwrap();
    m.open_trace(&path).unwrap();
    m.set("en", 1).unwrap();
    m.ticks(4);
    m.close_trace();
    let vcd = std::fs::read_to_string(&path).unwrap();
    assert!(vcd.contains("$enddefinitions") && vcd.contains(" count "), "{}", &vcd[..vcd.len().min(2000)]);
    assert!(vcd.contains("#7"), "8 half-cycles dumped");
    let e = m.open_trace(&path).unwrap_err().to_string();
    assert!(e.contains("already opened"), "{e}");

    // A trace directory (what DSC_TRACE sets) gives every instance its own VCD from cycle 0.
    let tdir = dir.join(format!("auto-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tdir);
    let opts = BuildOptions { trace: false, trace_dir: Some(tdir.clone()), ..options() };
    let auto = build(&design, &opts).unwrap();
    assert!(auto.info().cached, "same traced model as above");
    let mut m = auto.model().unwrap();
    m.ticks(3);
    drop(m);
    let files: Vec<_> = std::fs::read_dir(&tdir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("counter-") && name.ends_with(".vcd"), "{name}");
    assert!(std::fs::read_to_string(&files[0]).unwrap().contains("#5"));
}

#[test]
fn bad_verilog_reports_verilators_message_verbatim() {
    let verilog = "module broken(input wire clock, output wire q);\n  assign q = ;\nendmodule\n";
    let ports = vec![
        Port::new("clock", Direction::Input, 1).as_clock(),
        Port::new("q", Direction::Output, 1),
    ];
    let design = Design::from_verilog("broken", verilog, "broken", ports).unwrap();
    let e = build(&design, &options()).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, SimError::ToolFailed { ref tool, .. } if tool == "verilator"), "{text}");
    assert!(text.contains("%Error: design.v:2:"), "{text}");
    assert!(text.contains("syntax error"), "{text}");
}

#[test]
fn rust_hdl_check_failure_is_an_error_not_a_panic() {
    let e = Design::from_block("unconnected", &mut Unconnected::default()).unwrap_err().to_string();
    assert!(e.contains("cannot generate Verilog for `unconnected`") && e.contains("check failed"), "{e}");
}

#[test]
fn missing_verilator_is_a_clear_error() {
    let empty = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let e = find_tool("verilator", Some(empty.as_os_str())).unwrap_err();
    assert_eq!(e.to_string(), "verilator not found: run scripts/setup.sh");
    assert_eq!(format!("{e:?}"), "verilator not found: run scripts/setup.sh");
    let mut b = Counter::default();
    let design = Design::from_block("counter", &mut b).unwrap();
    let opts = BuildOptions {
        tool_path: Some(empty.into_os_string()),
        ..options()
    };
    let e = build(&design, &opts).unwrap_err().to_string();
    assert_eq!(e, "verilator not found: run scripts/setup.sh");
    // And with the real PATH it is found.
    find_tool("verilator", None).unwrap();
}

#[test]
fn concurrent_cold_builds_of_one_model_do_not_corrupt_the_cache() {
    // A fresh cache: both builders compile from scratch (Verilator runtime included) and race
    // to publish; each must end with a working model.
    let cache = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("race-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let mut b = StreamInc::default();
    let design = Design::from_block("race", &mut b).unwrap();
    let opts = BuildOptions { cache_dir: Some(cache.clone()), ..BuildOptions::default() };
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| build(&design, &opts))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in results {
        let c = r.unwrap();
        assert!(!c.info().cached);
        eprintln!("cold build (concurrent with another): {:.2} s", c.info().seconds);
        let mut m = c.model().unwrap();
        m.set("data_in_tdata", 41).unwrap();
        m.set("data_in_tvalid", 1).unwrap();
        m.set("data_out_tready", 1).unwrap();
        m.tick();
        assert_eq!(m.get("data_out_tdata").unwrap(), 42);
    }
    let again = build(&design, &opts).unwrap();
    assert!(again.info().cached);
    // Only the published model and runtime directories remain: no temp directories.
    let leftovers: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(again);
    let _ = std::fs::remove_dir_all(&cache);
}

/// A `$stop` in the design (Verilator's fatal path) is an error on that model, not the end of
/// the test process; `$finish` only flags the context (Verilator would exit() on the second).
#[test]
fn verilator_fatal_errors_poison_the_model_not_the_process() {
    let verilog = "module stopper(input wire clock, input wire stop, input wire fin, output reg [7:0] n);\n\
                   initial n = 0;\n\
                   always @(posedge clock) begin\n\
                     n <= n + 1;\n\
                     if (stop) $stop;\n\
                     if (fin) $finish;\n\
                   end\n\
                   endmodule\n";
    let ports = vec![
        Port::new("clock", Direction::Input, 1).as_clock(),
        Port::new("stop", Direction::Input, 1),
        Port::new("fin", Direction::Input, 1),
        Port::new("n", Direction::Output, 8),
    ];
    let design = Design::from_verilog("stopper", verilog, "stopper", ports).unwrap();
    let compiled = build(&design, &options()).unwrap();
    let mut m = compiled.model().unwrap();
    m.set("fin", 1).unwrap();
    m.ticks(3); // three $finish: no exit
    assert_eq!(m.get("n").unwrap(), 3);
    m.set("fin", 0).unwrap();
    m.set("stop", 1).unwrap();
    let e = m.try_tick().unwrap_err().to_string();
    assert!(e.contains("Verilator fatal error in `stopper`") && e.contains("$stop"), "{e}");
    // Every later access reports the same error.
    assert!(m.get("n").unwrap_err().to_string().contains("$stop"));
    assert!(m.set("stop", 0).unwrap_err().to_string().contains("$stop"));
    assert!(m.check().is_err());
    // Another instance of the same model is unaffected.
    let mut fresh = compiled.model().unwrap();
    fresh.tick();
    assert_eq!(fresh.get("n").unwrap(), 1);
}
