//! Verilator co-simulation harness (filled in by the Verilator issue).
