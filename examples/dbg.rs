use tcpscope::scenario::{Run, Scenario, Overrides};
use tcpscope::link::memory::Side;
fn main() {
    let sc = Scenario::load("lost-fin").unwrap();
    let mut r = Run::new(sc, &Overrides::default());
    while !r.is_finished() && r.now().secs_f64() < 3.0 {
        r.advance_one(None);
        let now = r.now();
        let conns: Vec<_> = r.wire.engine(Side::Server).connections().map(|t| (t.id, t.state, t.fin_received, t.recv_available())).collect();
        println!("t={} server conns {:?}", now, conns);
        r.take_events();
    }
}
