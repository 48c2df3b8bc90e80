//! Links carry packets between an engine and the world: the in-memory wire
//! (demo, tests) and the TUN device (live).

pub mod memory;
pub mod tun;
