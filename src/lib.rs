//! tcpscope: watch TCP think.
//!
//! A TCP stack written for this project (`tcp`, sans-IO), the wire format
//! (`wire`), the event stream everything else consumes (`event`), the fault
//! injector (`fault`), links (`link`: in-memory wire, TUN), the scenario
//! runner (`scenario`), the live runtime (`runtime`), the drivers that feed
//! the UI events and take its commands (`driver`: demo, live, replay), and
//! the terminal UI (`ui`); the words of all of them on screen and in the
//! handout, one catalogue per language (`i18n`).

pub mod app;
pub mod capture;
pub mod cli;
pub mod config;
pub mod drill;
pub mod driver;
pub mod event;
pub mod fault;
pub mod fuzzing;
pub mod gso;
pub mod i18n;
pub mod link;
pub mod output;
pub mod pcap;
pub mod runtime;
pub mod scenario;
pub mod seq;
pub mod services;
pub mod settings;
pub mod socket;
pub mod state;
pub mod tap;
pub mod tcp;
pub mod time;
pub mod transcript;
pub mod ui;
pub mod wire;
