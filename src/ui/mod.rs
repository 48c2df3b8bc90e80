//! The terminal UI (ratatui), fed only by events through a
//! [`crate::driver::Driver`]. Screen code only: what produces the events
//! (demo, live, replay) lives in [`crate::driver`], which never uses `ui`.
//!
//! Layout in the spirit of trippy's frontend:
//! - `model`: the picture built from events; pure and tested on its own.
//! - `view`: selection, focus, popups; turns keys into driver commands.
//! - `keys`: the key table (help and hints are drawn from it); `form`: the
//!   fault-rule form.
//! - `render`: one module per widget.
//! - `term`: the event loop and the terminal's setup and restoration.
//! - `svg`: a frame as an SVG picture (pure); `screenshot`: writing one,
//!   from the `S` key or, without a terminal, for `--screenshot`.

pub mod form;
pub mod keys;
pub mod model;
pub mod plot;
pub mod render;
pub mod screenshot;
pub mod svg;
pub mod term;
pub mod theme;
pub mod units;
pub mod view;

pub use term::{UiSettings, run, run_with};
