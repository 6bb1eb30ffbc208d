//! The load harness: `cargo bench --bench load -- SCENARIO [options]` (see `benches/harness`).

mod harness;

fn main() {
    harness::main();
}
