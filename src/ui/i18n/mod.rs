//! The words of the terminal UI (and of `tcpscope plot`'s SVG): one
//! catalogue per language, [`en`] and [`zh`], both values of one struct,
//! [`Messages`], so a message missing from a language does not compile.
//!
//! A fixed message is a `&'static str` field (`m.conns_title`): no
//! allocation. A message with numbers or names in it is a method
//! (`m.freed_tcb(&buffers, port)`) over a private `fn` field that each
//! language fills with its own `format!`, so each language orders the
//! words as it needs.
//!
//! What stays the same in every language is not here: protocol and field
//! names (SYN, ACK, RTO, cwnd, SND.UNA, state names such as TIME-WAIT, flag
//! letters), key names (Enter, Esc, Tab), and data (addresses, a fault
//! rule's text form, which is the event schema's). `tests/ui_i18n.rs`
//! lists those words, and finds no other English on Chinese screens nor
//! in the Chinese catalogue.
//!
//! The language comes from `--lang` (or the config file, or the locale),
//! the same one the scenario narration uses; the UI asks [`messages`] for
//! its catalogue (see `View::msg`).

use std::borrow::Cow;

use crate::driver::Mode;
use crate::event::{AbortReason, Analysis, DropReason, FaultAction, TimerKind};
use crate::scenario::Lang;

mod en;
mod zh;

/// The catalogue of `lang`.
pub fn messages(lang: Lang) -> &'static Messages {
    match lang {
        Lang::En => &en::EN,
        Lang::Zh => &zh::ZH,
    }
}

/// Declares [`Messages`]: the fixed messages as public `&'static str`
/// fields; the formatted ones as private `fn` fields, each behind a method
/// of the same name; and [`Messages::all`], every message by name.
macro_rules! messages {
    (
        fixed { $( $(#[$fixed_doc:meta])* $fixed:ident, )* }
        formatted { $( $(#[$fn_doc:meta])* fn $func:ident($($arg:ident: $ty:ty),* $(,)?); )* }
    ) => {
        /// Every word of the UI in one language (see the module comment).
        pub struct Messages {
            $( $(#[$fixed_doc])* pub $fixed: &'static str, )*
            $( $func: fn($($ty),*) -> String, )*
        }

        impl Messages {
            $(
                $(#[$fn_doc])*
                pub fn $func(&self, $($arg: $ty),*) -> String {
                    (self.$func)($($arg),*)
                }
            )*

            /// Every message with its name: the fixed ones as they are, the
            /// formatted ones with default arguments (`0`, `""`, `false`),
            /// for the tests that read a whole catalogue.
            pub fn all(&self) -> Vec<(&'static str, Cow<'static, str>)> {
                vec![
                    $( (stringify!($fixed), Cow::Borrowed(self.$fixed)), )*
                    $(
                        (
                            stringify!($func),
                            Cow::Owned((self.$func)($(<$ty as Default>::default()),*)),
                        ),
                    )*
                ]
            }
        }
    };
}

messages! {
    fixed {
        // ----- units (see `units`) ---------------------------------------
        /// Seconds after a number: `0.20s`.
        unit_s,
        /// Milliseconds after a number: `20ms`.
        unit_ms,
        /// Minutes in `4m02s` and `2h00m`.
        unit_min,
        /// Hours in `2h00m`.
        unit_h,
        /// Bytes in `1500 B` (KiB and MiB stay).
        unit_b,
        /// Between the items of a list: `sent 1.0, arrived 1.1`.
        list_sep,

        // ----- names ------------------------------------------------------
        /// The host named `client` in scenarios.
        host_client,
        /// The host named `server` in scenarios.
        host_server,
        /// The other end when its host is not known.
        host_peer,
        /// The client's one-letter mark in the timer column.
        side_client,
        /// The server's one-letter mark in the timer column.
        side_server,
        mode_demo,
        mode_live,
        mode_replay,
        /// The space bar, in key hints.
        key_space,

        // ----- title bar --------------------------------------------------
        segments_held,
        finished,
        /// A walkthrough waiting for the person.
        next_step_hint,
        paused,
        /// Live mode's state, and the graph following the newest event.
        live,
        running,
        walkthrough,

        // ----- key hints --------------------------------------------------
        /// Before the filter text.
        filter,
        filter_help,
        /// Enter keeps the filter.
        filter_keep,
        /// Esc clears the filter.
        filter_clear,
        hint_help,
        hint_quit,
        hint_unzoom,
        hint_next_pane,
        hint_release_one,
        hint_release_all,
        hint_next_step,
        hint_back,
        hint_step,
        hint_play,
        hint_pause,
        hint_run,
        hint_select,
        hint_ladder,
        hint_connections,
        hint_details,
        hint_drop,
        hint_stop_holding,
        hint_hold,
        hint_fault,
        hint_close,
        hint_speed,
        hint_walkthrough,
        hint_connect,
        /// The chapter list's key hint, and a demo's step-mode hint.
        hint_chapters,
        hint_step_mode,
        /// The title's mark while a walkthrough's quiet stretch plays fast.
        time_lapse,
        /// The walkthrough's first screen: how to go on and back.
        walkthrough_title,
        welcome,
        welcome_chapters,
        /// The chapter list (`C`).
        chapters_title,
        chapters_footer,
        no_chapters,

        // ----- connection list --------------------------------------------
        conns_title,
        col_connection,
        col_state,
        /// The bytes column when wide (`→/←` alone when narrow).
        col_bytes,
        col_age,
        col_rtx,
        col_timer,
        no_connections,
        no_match,
        /// A side known but without a TCB.
        no_tcb,
        /// A closed connection that said nothing about what it freed.
        closed,
        timer_rto,
        timer_delack,
        timer_persist,
        timer_keepalive,
        timer_timewait,
        timer_fin2,
        timer_connect,
        timer_reorder,
        timer_tlp,
        abort_user,
        abort_reset_received,
        abort_retransmit_timeout,
        abort_keepalive_timeout,
        abort_connect_timeout,
        abort_fin_wait_2_timeout,
        abort_reopened,
        abort_data_after_close,

        // ----- detail pane ------------------------------------------------
        details,
        esc_closes,
        nothing_selected,
        k_time,
        k_fate,
        k_note,
        k_analysis,
        k_injector,
        k_options,
        k_host,
        retransmission,
        delivered,
        on_the_wire,
        drop_injected,
        drop_loss,
        drop_checksum,
        drop_malformed,
        drop_bad_option,
        drop_not_ipv4_tcp,
        drop_not_ipv6_tcp,
        drop_fragment,
        drop_not_for_us,
        an_retransmission,
        an_fast_retransmission,
        an_spurious_retransmission,
        an_out_of_order,
        an_duplicate_ack,
        an_zero_window,
        an_zero_window_probe,
        an_zero_window_probe_ack,
        an_window_update,
        an_window_full,
        an_keep_alive,
        an_keep_alive_ack,
        an_lost_segment,
        an_ack_lost_segment,
        an_reset,
        no_header_bytes,
        /// After the ack field, with the space before it (none before
        /// full-width brackets).
        ack_not_set,
        /// After the window, with the space before it.
        never_scaled,
        /// The TCP header's flags field.
        flags,
        why_state,
        fired_rto,
        why_rto,
        fired_delack,
        why_delack,
        fired_persist,
        why_persist,
        fired_keepalive,
        why_keepalive,
        fired_timewait,
        why_timewait,
        fired_fin2,
        why_fin2,
        fired_connect,
        why_connect,
        fired_reorder,
        why_reorder,
        fired_tlp,
        why_tlp,
        why_keepalive_answered,
        why_keepalive_dead,
        why_tcb,
        why_abort,

        // ----- narration --------------------------------------------------
        narration,
        walkthrough_keys,

        // ----- the fault form and the prompts -----------------------------
        fault_rule,
        form_keys,
        directions_live,
        directions_demo,
        /// An empty filter, and the choice that matches everything.
        any,
        /// Before the rule the form would add.
        rule,
        field_direction,
        field_flags,
        field_payload,
        field_port,
        field_when,
        field_how_many,
        field_action,
        field_delay,
        hint_field_direction,
        hint_field_flags,
        hint_field_payload,
        hint_field_port,
        hint_field_when,
        hint_field_how_many,
        hint_field_action,
        hint_field_delay,
        dir_in,
        dir_out,
        with_data,
        without_data,
        trigger_count,
        trigger_probability,
        trigger_always,
        action_drop,
        action_hold,
        action_delay,
        action_duplicate,
        action_reorder,
        action_corrupt,
        prompt_loss,
        prompt_loss_help,
        prompt_connect,
        prompt_connect_help,
        prompt_keys,
        type_a_percentage,
        write_in_out,

        // ----- status sentences -------------------------------------------
        no_rule_added,
        no_time,
        every_pane,
        nothing_held,
        replay_no_faults,
        select_first,
        listener_not_conn,
        connect_live_only,
        one_side_only,
        absolute_seq,
        relative_seq,
        graph_on,
        pane_ladder,
        pane_tcb,
        pane_timers,
        pane_keepalive,

        // ----- too small --------------------------------------------------
        make_larger,

        // ----- graph view -------------------------------------------------
        graph,
        no_conn_selected,
        graph_abs_seq,
        graph_rel_seq,
        legend_data,
        legend_rto,
        legend_fast,
        legend_probe,
        legend_drop,
        legend_ack,
        legend_burst,
        legend_peer_wnd,
        legend_recovery,

        // ----- tcpscope plot (SVG) ----------------------------------------
        plot_seq_title,
        plot_win_title,
        plot_time,
        plot_seq,
        plot_bytes,
        plot_rto,
        plot_fast,
        plot_dropped,
        plot_ack,
        plot_rwnd_edge,
        plot_peer_wnd,
    }
    formatted {
        /// The title bar's clock, `now` as `units::t` writes it.
        fn clock(now: &str);
        fn events_lost(n: u64);
        /// A listening socket in the connection list.
        fn listen(addr: &str);
        /// What a closed connection gave back.
        fn freed_tcb(buffers: &str, port: u16);
        fn segment_title(id: u64);
        fn burst(segments: u32, bytes: u64, seq_from: u32, seq_to: u32, ack_to: u32, since: &str);
        fn sent(t: &str);
        fn arrived(t: &str);
        fn seen(t: &str);
        fn held_since(t: &str);
        fn dropped(t: &str, reason: &str);
        fn dropped_by_rule(t: &str, reason: &str, rule: &str);
        fn dup_ack_note(n: u32);
        /// `names`: the analysis flags, joined.
        fn analysis(names: &str);
        fn offload_note(segments: u32);
        fn keepalive_probe_note(probe: u32, of: u32);
        /// `proto`: IPv4, IPv6 or TCP.
        fn header_unreadable(proto: &str, error: &str);
        /// The IPv6 header's second line.
        fn ipv6_fields(tc: u8, flow: u32, payload_len: u16, next: u8, hop_limit: u8);
        fn extension_header(next: u8);
        /// After a sequence or acknowledgment number, with the space
        /// before it.
        fn relative(n: u32);
        fn bad_option(error: &str);
        fn payload(len: u32, text: &str);
        fn state_change(from: &str, to: &str, inferred: bool, cause: &str);
        fn keepalive_answered(probe: u32, of: u32);
        fn keepalive_dead(probe: u32, of: u32);
        fn aborted(reason: &str);
        /// The narration panel's title after its name.
        fn narration_step(step: u32, t: &str);
        fn bad_port(port: &str);
        fn not_a_count(amount: &str);
        fn not_a_percentage(amount: &str);
        fn not_a_percentage_0_100(value: &str);
        fn not_in_or_out(word: &str);
        fn not_ip_port(input: &str);
        /// `z`: `pane` has the screen; `key` gives it back.
        fn zoomed(pane: &str, key: &str);
        /// `X`: x, a and K act for `host` (its display name).
        fn acting_for(host: &str);
        fn screenshot_written(name: &str);
        fn screenshot_failed(path: &str, error: &str);
        fn too_small(width: u16, height: u16, min_width: u16, min_height: u16);
    }
}

impl Messages {
    /// A host's name as shown: `client` and `server` (the scenarios'
    /// names) in this language, any other name as it is.
    pub fn host<'a>(&self, name: &'a str) -> Cow<'a, str> {
        match name {
            "client" => Cow::Borrowed(self.host_client),
            "server" => Cow::Borrowed(self.host_server),
            other => Cow::Borrowed(other),
        }
    }

    /// The timer column's mark of a side: the client's and the server's
    /// letters, else the host's initial (`L`/`R` for a nameless one).
    pub fn side_letter(&self, host: &str, slot: usize) -> String {
        match host {
            "client" => self.side_client.into(),
            "server" => self.side_server.into(),
            h => h
                .chars()
                .next()
                .map(|c| c.to_ascii_uppercase().to_string())
                .unwrap_or_else(|| if slot == 0 { "L".into() } else { "R".into() }),
        }
    }

    pub fn mode(&self, m: Mode) -> &'static str {
        match m {
            Mode::Demo => self.mode_demo,
            Mode::Live => self.mode_live,
            Mode::Replay => self.mode_replay,
        }
    }

    /// A timer's short name, as `ss -o` writes it.
    pub fn timer_short(&self, k: TimerKind) -> &'static str {
        match k {
            TimerKind::Retransmit => self.timer_rto,
            TimerKind::DelayedAck => self.timer_delack,
            TimerKind::Persist => self.timer_persist,
            TimerKind::Keepalive => self.timer_keepalive,
            TimerKind::TimeWait => self.timer_timewait,
            TimerKind::FinWait2 => self.timer_fin2,
            TimerKind::Connect => self.timer_connect,
            TimerKind::Reorder => self.timer_reorder,
            TimerKind::Tlp => self.timer_tlp,
        }
    }

    /// Why a connection was aborted; a reason this version does not know
    /// reads as the event wrote it.
    pub fn abort_reason<'a>(&self, r: &'a AbortReason) -> Cow<'a, str> {
        Cow::Borrowed(match r {
            AbortReason::User => self.abort_user,
            AbortReason::ResetReceived => self.abort_reset_received,
            AbortReason::RetransmitTimeout => self.abort_retransmit_timeout,
            AbortReason::KeepaliveTimeout => self.abort_keepalive_timeout,
            AbortReason::ConnectTimeout => self.abort_connect_timeout,
            AbortReason::FinWait2Timeout => self.abort_fin_wait_2_timeout,
            AbortReason::Reopened => self.abort_reopened,
            AbortReason::DataAfterClose => self.abort_data_after_close,
            AbortReason::Other(s) => return Cow::Owned(s.replace('_', " ")),
        })
    }

    /// Why a segment was dropped.
    pub fn drop_reason<'a>(&self, r: &'a DropReason) -> &'a str {
        match r {
            DropReason::Injected => self.drop_injected,
            DropReason::Loss => self.drop_loss,
            DropReason::Checksum => self.drop_checksum,
            DropReason::Malformed => self.drop_malformed,
            DropReason::BadOption => self.drop_bad_option,
            DropReason::NotIpv4Tcp => self.drop_not_ipv4_tcp,
            DropReason::NotIpv6Tcp => self.drop_not_ipv6_tcp,
            DropReason::Fragment => self.drop_fragment,
            DropReason::NotForUs => self.drop_not_for_us,
            DropReason::Other(s) => s,
        }
    }

    /// A Wireshark analysis flag (the English catalogue keeps Wireshark's
    /// own names).
    pub fn analysis_name<'a>(&self, a: &'a Analysis) -> &'a str {
        match a {
            Analysis::Retransmission => self.an_retransmission,
            Analysis::FastRetransmission => self.an_fast_retransmission,
            Analysis::SpuriousRetransmission => self.an_spurious_retransmission,
            Analysis::OutOfOrder => self.an_out_of_order,
            Analysis::DuplicateAck => self.an_duplicate_ack,
            Analysis::ZeroWindow => self.an_zero_window,
            Analysis::ZeroWindowProbe => self.an_zero_window_probe,
            Analysis::ZeroWindowProbeAck => self.an_zero_window_probe_ack,
            Analysis::WindowUpdate => self.an_window_update,
            Analysis::WindowFull => self.an_window_full,
            Analysis::KeepAlive => self.an_keep_alive,
            Analysis::KeepAliveAck => self.an_keep_alive_ack,
            Analysis::LostSegment => self.an_lost_segment,
            Analysis::AckLostSegment => self.an_ack_lost_segment,
            Analysis::Reset => self.an_reset,
            Analysis::Other(s) => s,
        }
    }

    /// What the injector did to a segment it let through.
    pub fn fault_action(&self, a: FaultAction) -> &'static str {
        match a {
            FaultAction::Delay => self.action_delay,
            FaultAction::Duplicate => self.action_duplicate,
            FaultAction::Corrupt => self.action_corrupt,
            FaultAction::Reorder => self.action_reorder,
        }
    }
}
