//! The terminal UI (ratatui), fed only by events through a [`driver::Driver`].

pub mod driver;
