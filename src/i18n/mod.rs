//! The words a person reads, in their language: the terminal UI's
//! screens, the drivers' answers and notices on its status line, the
//! `--transcript` handout, `tcpscope plot`'s SVG. One catalogue per
//! language, [`en`] and [`zh`], both values of one struct, [`Messages`], so
//! a message missing from a language does not compile. It sits with the
//! ground (ARCHITECTURE.md) so that every layer above may speak: the
//! drivers, which must not know the UI, take their answers from it in the
//! language the UI gives them.
//!
//! A fixed message is a `&'static str` field (`m.conns_title`): no
//! allocation. A message with numbers or names in it is a method
//! (`m.freed_tcb(&buffers, port)`) over a private `fn` field that each
//! language fills with its own `format!`, so each language orders the
//! words as it needs. The words for a protocol value (a timer, a
//! congestion state) are a method from the value (`m.timer_name(k)`).
//!
//! What stays the same in every language is not here: protocol and field
//! names (SYN, ACK, RTO, cwnd, SND.UNA, state names such as TIME-WAIT, flag
//! letters), key names (Enter, Esc, Tab), and data (addresses, the bytes an
//! application sent). The events keep their English, as the schema has
//! it: a rule's text form, a state change's cause, an application's note;
//! the screens word a rule from its value, and say the English sentences
//! of the engine, the capture reader, the scenario runner and the services
//! through the phrasebook ([`Messages::phrase`]). `tests/ui_i18n.rs` finds
//! no other English on Chinese screens nor in the Chinese catalogue (the
//! word check is `tests/common/english.rs`).
//!
//! The language comes from `--lang` (or the config file, or the locale),
//! the same one the scenario narration uses; the UI asks [`messages`] for
//! its catalogue (see `View::msg`) and tells its driver
//! (`Driver::set_lang`).

use std::borrow::Cow;

use crate::event::{
    AbortReason, Analysis, CaState, CcAlgo, DropReason, FaultAction, LimitKind, Phase,
    RecoveryAction, RtxCause, TimerAction, TimerKind,
};
use crate::wire::Flags;

mod en;
mod zh;

/// The language of the UI, the narration, the drivers' answers and the
/// handout (`--lang`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// From LC_ALL / LC_MESSAGES / LANG: Chinese locales get `zh`.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                return if v.to_ascii_lowercase().starts_with("zh") {
                    Lang::Zh
                } else {
                    Lang::En
                };
            }
        }
        Lang::En
    }
}

/// The catalogue of `lang`.
pub fn messages(lang: Lang) -> &'static Messages {
    match lang {
        Lang::En => &en::EN,
        Lang::Zh => &zh::ZH,
    }
}

/// Declares [`Messages`]: the fixed messages as public `&'static str`
/// fields; the formatted ones as private `fn` fields, each behind a method
/// of the same name; the words for a protocol value (a timer, a congestion
/// state) as private `fn` fields from the value to a `&'static str`, each
/// behind a method; the phrasebook ([`Messages::phrase`]); and
/// [`Messages::all`], every fixed and formatted message by name.
macro_rules! messages {
    (
        fixed { $( $(#[$fixed_doc:meta])* $fixed:ident, )* }
        formatted { $( $(#[$fn_doc:meta])* fn $func:ident($($arg:ident: $ty:ty),* $(,)?); )* }
        words { $( $(#[$w_doc:meta])* fn $word:ident($warg:ident: $wty:ty); )* }
    ) => {
        /// Every word on screen and in the handout in one language (see
        /// the module comment).
        pub struct Messages {
            $( $(#[$fixed_doc])* pub $fixed: &'static str, )*
            $( $func: fn($($ty),*) -> String, )*
            $( $word: fn($wty) -> &'static str, )*
            /// Sentences other modules write into events, and this
            /// language's for them: see [`Messages::phrase`].
            phrases: &'static [(&'static str, &'static str)],
        }

        impl Messages {
            $(
                $(#[$fn_doc])*
                // A message takes what it names, however many things.
                #[allow(clippy::too_many_arguments)]
                pub fn $func(&self, $($arg: $ty),*) -> String {
                    (self.$func)($($arg),*)
                }
            )*

            $(
                $(#[$w_doc])*
                pub fn $word(&self, $warg: $wty) -> &'static str {
                    (self.$word)($warg)
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

        // ----- ladder --------------------------------------------------------------
        ladder_title,
        ladder_abs_seq,
        ladder_rel_seq,
        /// The ladder's title when scrolled away from the newest.
        to_newest,
        waiting_first_segment,
        /// The ladder's arrival column.
        col_arrives,
        /// After a held segment's ‖.
        held_mark,
        /// Before an ACK's SACK blocks, on the ladder and in the handout.
        sack_word,
        /// Under a SYN, with its options.
        sack_blocks,
        /// A segment without any flag.
        no_flags,
        tcb_freed_default,

        // ----- the side panel ------------------------------------------------------
        select_a_conn,
        timers_title,
        keepalive_title,
        state_title,
        /// Beside a closed side's host name (with its space before it).
        at_close,
        values_at_close,
        closed_tcb_allocated,
        on,
        off,
        row_state,
        /// The congestion control row.
        row_cc,
        /// Slow start while nothing is amiss.
        cc_ss,
        /// Congestion avoidance while nothing is amiss.
        cc_ca,
        no_timer_armed,
        /// The rule above the timers in the compact panel.
        timers_rule,
        ka_closed,
        ka_off,
        ka_reset,

        // ----- the fault bar and a rule's words ------------------------------------
        faults_title,
        no_rules,
        rule_with_data,
        rule_no_data,
        rule_all,

        // ----- help (`?`): the keys page -------------------------------------------
        help_keys_title,
        /// Page one's bottom line, after the key to page two.
        help_to_notation,
        /// The keys page's last line: which profile each mode runs.
        help_profiles,
        help_look,
        help_faults,
        help_connection,
        help_time,
        help_general,
        /// Key names that are words (the space bar is `key_space`).
        key_backspace,
        key_mouse,
        unbound,
        hk_select,
        hk_page,
        hk_first_newest,
        hk_focus,
        hk_details,
        hk_filter,
        hk_graph,
        hk_absolute,
        hk_other_side,
        hk_mouse,
        hk_back,
        hk_drop,
        hk_loss,
        hk_hold,
        hk_release_one,
        hk_release_all,
        hk_fault_form,
        hk_clear_rules,
        hk_close,
        hk_abort,
        hk_keepalive,
        hk_connect,
        hk_next_step,
        hk_step_back,
        hk_step_forward,
        hk_pause,
        hk_walkthrough,
        hk_chapters,
        hk_speed,
        hk_seek,
        hk_help,
        hk_zoom,
        hk_quit,
        hk_screenshot,

        // ----- help (`?`): the ladder notation page --------------------------------
        notation_title,
        any_key_closes,
        nt_arrows,
        nt_ends,
        /// The token column's words.
        nt_full,
        nt_short,
        nt_left_edge_token,
        nt_short_what,
        nt_flags,
        nt_range,
        nt_ack_win,
        nt_sack,
        nt_dup,
        nt_rtx,
        nt_tlp,
        nt_fault,
        nt_twice,
        nt_analysis,
        nt_arrived,
        nt_dropped,
        nt_marks,
        nt_tcb,
        nt_left_edge,
        nt_seq,

        // ----- notes on the ladder -------------------------------------------------
        hystart_ack_train,
        hystart_delay,
        /// How an undo knew: timestamps (RFC 3522).
        how_eifel,
        /// How an undo knew: D-SACK (RFC 3708).
        how_dsack,
        /// How an undo knew: F-RTO (RFC 5682).
        how_frto,

        // ----- the drivers' answers (demo, replay, live, a viewer) -----------------
        d_no_host,
        d_pcap_stops,
        d_no_more_loss,
        d_holding,
        d_pass_again,
        d_nothing_held,
        d_released_1,
        d_rules_removed,
        d_last_step,
        d_next_step,
        d_nothing_more,
        d_at_start,
        d_connect_demo,
        d_walk_on,
        d_walk_off,
        d_drop_c2s,
        d_drop_s2c,
        /// RFC 9293's user calls, before the engine's answer.
        call_close,
        call_abort,
        call_keepalive,
        r_playing,
        r_at_end,
        r_at_start,
        /// What a recording cannot do (`plays_back`).
        pb_dropping,
        pb_loss,
        pb_holding,
        pb_rule,
        pb_closing,
        pb_aborting,
        pb_connecting,
        pb_keepalive,
        r_walk_segments,
        r_walk_on,
        r_walk_off,
        l_no_pause,
        l_no_step,
        l_stopped,
        l_drop_in,
        l_drop_out,
        l_rules_removed,
        /// watch and intercept (`driver/tap.rs`).
        t_stopped,
        t_watch_only,
        t_no_answer,
        t_kernel_conns,
        t_no_pause,
        t_no_step,
        /// The live title's services when there are none.
        serving_nothing,
        read_only,

        // ----- the handout (`--transcript`) ----------------------------------------
        tr_written_by,
        /// The reading guide, one paragraph (a Markdown quote).
        tr_reading,
        tr_no_narration,
        tr_released,
        tr_tcb_allocated,
        tr_tcb_freed,
        tr_keepalive_on,
        tr_keepalive_off,
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

        // ladder
        fn older(n: u64);
        /// A keepalive probe's arrow.
        fn probe_label(p: u32, n: u32);
        fn dup_ack_label(n: u32);
        /// A duplicate ACK on a narrow arrow.
        fn dup_short(n: u32);
        fn offload_label(n: u32);
        fn burst_label(segments: u32, bytes: &str);
        fn ka_answered_mark(probe: u32);
        fn peer_dead_mark(probes: u32);
        fn abort_mark(reason: &str);
        fn tcb_allocated_mark(buffers: &str, port: u16);
        fn tcb_freed_mark(buffers: &str, port: u16);
        fn tcb_allocated_detail(send: &str, recv: &str, port: u16, table: usize);
        fn tcb_freed_detail(freed: &str, table: usize);
        // the side panel
        fn inferred_state(name: &str);
        fn pipe_detail(pipe: u32, sacked: u32, lost: u32);
        /// RACK's reordering window, widened by D-SACKs.
        fn reo(mult: u32);
        fn keepalive_line(text: &str);
        fn ka_dead(probes: u32);
        fn ka_after_idle(idle: &str);
        fn ka_waiting(when: &str);
        fn ka_answered(probe: u32);
        fn ka_idle(answered: &str, left: &str);
        fn ka_probe_next(probe: u32, of: u32, left: &str);
        fn ka_verdict(probe: u32, of: u32, left: &str);
        // the fault bar and a rule's words
        fn held_count(n: usize);
        fn dropped_counts(inbound: u64, outbound: u64);
        fn rule_delay(ms: u64);
        fn rule_port(port: u16);
        fn rule_next(n: u32);
        fn rule_pct(pct: &str);
        // help (`?`): the keys page
        // help (`?`): the ladder notation page
        // notes on the ladder
        fn app_request(msg: &str, n: u64);
        fn app_service(service: &str, msg: &str);
        fn limit_plain(what: &str, limit: u64);
        fn limit_detail(what: &str, limit: u64, detail: &str);
        fn rec_enter(by: &str, state: &str, ranges: &str, w: &str);
        fn rec_mark(by: &str, ranges: &str, w: &str);
        fn rec_exit(state: &str, w: &str);
        fn rec_undo(how: &str, w: &str);
        fn rec_probe(ranges: &str);
        fn rec_reduce(w: &str);
        fn rec_ss_exit(why: &str, w: &str);
        // the drivers' answers (demo, replay, live, a viewer)
        fn d_not_a_conn(conn: &str);
        fn d_not_an_addr(addr: &str);
        fn d_no_open_conn(host: &str, conn: &str);
        fn call_failed(call: &str, error: &str);
        fn d_closes(host: &str);
        fn d_aborts(host: &str);
        fn d_ka_on(host: &str, idle: &str, interval: &str, count: u32);
        fn d_ka_off(host: &str);
        fn d_loss(inbound: &str, outbound: &str);
        fn d_released_one(held: usize);
        fn d_released_n(n: usize);
        fn d_rule_added(rule: &str);
        fn d_time_runs_at(speed: &str);
        fn d_stepped_to(t: &str);
        fn d_back_to_step(step: usize);
        fn d_back_to_t(t: &str);
        fn d_not_a_time(t: &str);
        fn d_jumped_to(t: &str);
        fn past_step(at: &str, step: usize);
        fn past_steps(at: &str, first: usize, last: usize);
        fn no_chapter(n: usize);
        fn chapter_step(title: &str, step: usize);
        fn cannot_write_events(error: &str);
        fn pcap_stopped(error: &str);
        fn not_a_speed(x: &str);
        fn r_playing_at(speed: &str);
        fn r_step_to_event(to: usize, of: usize);
        fn r_event(to: usize, of: usize);
        fn r_back_to_event(to: usize, of: usize);
        fn r_not_a_time(t: &str);
        fn r_at(t: &str, end: &str);
        fn plays_back(what: &str);
        fn l_no_open_conn(conn: &str);
        fn l_closing(conn: &str);
        fn l_aborted(conn: &str);
        fn l_ka_on(conn: &str, idle: &str, interval: &str, count: u32);
        fn l_ka_off(conn: &str);
        fn l_connecting(addr: &str);
        fn l_loss(inbound: &str, outbound: &str);
        fn l_hold_off(held: usize);
        fn l_released_one(held: usize);
        fn l_released_n(n: usize);
        fn l_rule_added(rule: &str);
        fn live_title(tun: &str, kernel: &str, kernel6: &str, stack: &str, stack6: &str, profile: &str, serving: &str);
        fn viewer_title(path: &str, title: &str);
        fn session_ended(path: &str);
        // the handout (`--transcript`)
        /// A step's heading, after `## `.
        fn tr_step(n: usize, t: &str);
        fn tr_elided(n: usize);
        fn tr_stopped(t: &str);
        fn tr_due_at(t: &str);
        fn tr_probe_sent(probe: u32, of: u32);
        fn tr_probe_answered(probe: u32);
        fn tr_peer_dead(of: u32);
        fn tr_keepalive_values(idle: &str, interval: &str, of: u32);
        fn tr_loss_found(by: &str, action: &str);
        fn tr_recovery(action: &str);
        fn tr_burst(segments: u32, bytes: u64);
        fn tr_app(msg: &str);
    }
    words {
        /// A timer's name in the timers panel (at most 11 columns).
        fn timer_name(k: TimerKind);
        /// A timer as the handout names it (the event's word in English).
        fn timer_event_name(k: TimerKind);
        /// A fired timer on the ladder.
        fn timer_mark(k: TimerKind);
        fn timer_action(a: TimerAction);
        /// What sent a segment again, or found a loss.
        fn rtx_cause(c: RtxCause);
        /// The sender's congestion state.
        fn ca_state(s: CaState);
        /// The sender's growth phase.
        fn phase(p: Phase);
        /// The congestion control algorithm.
        fn cc_algo(a: CcAlgo);
        fn recovery_action(a: RecoveryAction);
        /// A configured limit.
        fn limit_kind(k: LimitKind);
        /// A capture's analysis flag on an arrow (see `analysis_label`).
        fn analysis_word(a: &Analysis);
        /// Why a connection was aborted, as the handout names it (the
        /// event's word in English; see `abort_event_word`).
        fn abort_word(r: &AbortReason);
        /// An event's kind, where the handout names an event by it (the
        /// schema's word in English).
        fn event_kind(kind: &'static str);
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

    /// A capture's analysis flag as an arrow's label shows it (the English
    /// catalogue keeps Wireshark's words as the ladder has always written
    /// them); a flag this version does not know reads as the event wrote it.
    pub fn analysis_label<'a>(&self, a: &'a Analysis) -> &'a str {
        match a {
            Analysis::Other(s) => s,
            a => self.analysis_word(a),
        }
    }

    /// [`Messages::abort_word`], or the word of a reason this version
    /// does not know.
    pub fn abort_event_word<'a>(&self, r: &'a AbortReason) -> &'a str {
        match r {
            AbortReason::Other(s) => s,
            r => self.abort_word(r),
        }
    }

    /// A drop reason by the name its event gives (the fault bar counts
    /// them by name); a name this version does not know reads as it is.
    pub fn drop_reason_named<'a>(&self, name: &'a str) -> &'a str {
        match name {
            "injected" => self.drop_injected,
            "loss" => self.drop_loss,
            "checksum" => self.drop_checksum,
            "malformed" => self.drop_malformed,
            "bad_option" => self.drop_bad_option,
            "not_ipv4_tcp" => self.drop_not_ipv4_tcp,
            "not_ipv6_tcp" => self.drop_not_ipv6_tcp,
            "fragment" => self.drop_fragment,
            "not_for_us" => self.drop_not_for_us,
            other => other,
        }
    }

    /// What the injector did, by the name its event gives.
    pub fn fault_action_named<'a>(&self, name: &'a str) -> &'a str {
        match name {
            "delay" => self.action_delay,
            "duplicate" => self.action_duplicate,
            "corrupt" => self.action_corrupt,
            "reorder" => self.action_reorder,
            other => other,
        }
    }

    /// How an undo knew its retransmissions were spurious (`eifel`,
    /// `frto`, `dsack`); anything else as the event wrote it.
    pub fn undo_how<'a>(&self, how: &'a str) -> &'a str {
        match how {
            "eifel" => self.how_eifel,
            "dsack" => self.how_dsack,
            "frto" => self.how_frto,
            other => other,
        }
    }

    /// A key's label with the keys that are words in this language: the
    /// space bar, backspace, the mouse, an unbound action (`space`,
    /// `Backspace`, `mouse`, `(unbound)` in English).
    pub fn key_words(&self, label: &str) -> String {
        if label == "(unbound)" {
            return self.unbound.to_string();
        }
        label
            .split(' ')
            .map(|w| match w {
                "space" => self.key_space,
                "Backspace" => self.key_backspace,
                "mouse" => self.key_mouse,
                w => w,
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A segment's flags as the narration writes them (`SYN+ACK`), or
    /// that it has none.
    pub fn flag_words(&self, f: Flags) -> String {
        if f == Flags::NONE {
            self.no_flags.to_string()
        } else {
            f.words()
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

impl Messages {
    /// A sentence that another module wrote into an event in English (a
    /// state change's `cause` from the engine or the capture reader, an
    /// application's note from the scenario runner or a service, what a
    /// freed TCB gave back), in this language, at display: the events
    /// stay as the schema has them, so a recording reads the same in
    /// every language.
    ///
    /// The catalogue's phrasebook pairs an English pattern with this
    /// language's template. In a pattern, `{}` stands for data (a number,
    /// an address) kept as it is and `{*}` for a sentence translated in
    /// turn; in a template, `{0}`, `{1}`, … put them back, in any order.
    /// The first pattern that matches the whole sentence wins; a sentence
    /// none matches (a scenario's own note, a newer engine's) stays as it
    /// was written.
    pub fn phrase<'a>(&self, s: &'a str) -> Cow<'a, str> {
        for (pattern, template) in self.phrases {
            if let Some(caps) = matches(&tokens(pattern), s) {
                let caps: Vec<Cow<str>> = caps
                    .into_iter()
                    .map(|(text, again)| {
                        if again {
                            Cow::Owned(self.phrase(text).into_owned())
                        } else {
                            Cow::Borrowed(text)
                        }
                    })
                    .collect();
                return Cow::Owned(fill(template, &caps));
            }
        }
        Cow::Borrowed(s)
    }

    /// The phrasebook: (English pattern, this language's template).
    pub fn phrases(&self) -> &'static [(&'static str, &'static str)] {
        self.phrases
    }
}

/// A piece of a phrase pattern.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token<'p> {
    Text(&'p str),
    /// `{}`: data, kept.
    Data,
    /// `{*}`: a sentence, translated in turn.
    Again,
}

fn tokens(pattern: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let hole = [("{}", Token::Data), ("{*}", Token::Again)]
            .into_iter()
            .filter_map(|(h, t)| rest.find(h).map(|i| (i, h.len(), t)))
            .min_by_key(|(i, _, _)| *i);
        match hole {
            Some((i, len, t)) => {
                if i > 0 {
                    out.push(Token::Text(&rest[..i]));
                }
                out.push(t);
                rest = &rest[i + len..];
            }
            None => {
                out.push(Token::Text(rest));
                break;
            }
        }
    }
    out
}

/// The holes' text when `s` matches the pattern whole, each with whether
/// it is translated in turn. A hole takes at least one character, as few
/// as let the rest match.
fn matches<'s>(pattern: &[Token<'_>], s: &'s str) -> Option<Vec<(&'s str, bool)>> {
    match pattern.split_first() {
        None => s.is_empty().then(Vec::new),
        Some((Token::Text(t), rest)) => matches(rest, s.strip_prefix(t)?),
        Some((hole, rest)) => {
            let again = *hole == Token::Again;
            let ends = s.char_indices().skip(1).map(|(i, _)| i).chain([s.len()]);
            for end in ends {
                if let Some(mut caps) = matches(rest, &s[end..]) {
                    caps.insert(0, (&s[..end], again));
                    return Some(caps);
                }
            }
            None
        }
    }
}

/// `template` with `{0}`, `{1}`, … replaced by the holes' text.
fn fill(template: &str, caps: &[Cow<str>]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.split_once('}') {
            Some((n, tail)) if n.parse::<usize>().is_ok_and(|n| n < caps.len()) => {
                out.push_str(&caps[n.parse::<usize>().unwrap_or(0)]);
                rest = tail;
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_matches_whole_and_fills_its_holes() {
        let pattern = tokens("SYN received (peer ISN {}); {*}");
        assert_eq!(
            matches(&pattern, "SYN received (peer ISN 42); ACK sent"),
            Some(vec![("42", false), ("ACK sent", true)])
        );
        assert_eq!(matches(&pattern, "SYN received (peer ISN 42)"), None);
        assert_eq!(
            matches(&tokens("a {} b"), "a x y b"),
            Some(vec![("x y", false)])
        );
        assert_eq!(
            matches(&tokens("a {} b"), "a  b"),
            None,
            "a hole is never empty"
        );
        assert_eq!(matches(&tokens("x"), "xy"), None);
        let caps = [Cow::Borrowed("1"), Cow::Borrowed("2")];
        assert_eq!(fill("{1} 和 {0}，{x}", &caps), "2 和 1，{x}");
    }

    /// The English words for protocol values are the ones the screens and
    /// the handout wrote before there was a catalogue: the events' own.
    #[test]
    fn english_words_are_the_events_own() {
        let en = messages(Lang::En);
        for a in [
            Analysis::Retransmission,
            Analysis::FastRetransmission,
            Analysis::SpuriousRetransmission,
            Analysis::OutOfOrder,
            Analysis::DuplicateAck,
            Analysis::ZeroWindow,
            Analysis::ZeroWindowProbe,
            Analysis::ZeroWindowProbeAck,
            Analysis::WindowUpdate,
            Analysis::WindowFull,
            Analysis::KeepAlive,
            Analysis::KeepAliveAck,
            Analysis::LostSegment,
            Analysis::AckLostSegment,
            Analysis::Reset,
            Analysis::Other("x_y".into()),
        ] {
            assert_eq!(en.analysis_label(&a), a.label());
        }
        for r in [
            AbortReason::User,
            AbortReason::ResetReceived,
            AbortReason::RetransmitTimeout,
            AbortReason::KeepaliveTimeout,
            AbortReason::ConnectTimeout,
            AbortReason::FinWait2Timeout,
            AbortReason::Reopened,
            AbortReason::DataAfterClose,
            AbortReason::Other("x_y".into()),
        ] {
            assert_eq!(en.abort_event_word(&r), r.name());
            assert_eq!(en.abort_reason(&r), r.name().replace('_', " "));
        }
        for p in [
            Phase::SlowStart,
            Phase::CongestionAvoidance,
            Phase::FastRecovery,
        ] {
            assert_eq!(en.phase(p), p.name().replace('_', " "));
        }
        for k in TimerKind::ALL {
            assert_eq!(en.timer_event_name(k), k.name());
        }
        for a in [
            FaultAction::Delay,
            FaultAction::Duplicate,
            FaultAction::Corrupt,
            FaultAction::Reorder,
        ] {
            assert_eq!(en.fault_action(a), a.name());
            assert_eq!(en.fault_action_named(a.name()), a.name());
        }
        for d in [
            DropReason::Injected,
            DropReason::Loss,
            DropReason::Checksum,
            DropReason::Malformed,
            DropReason::BadOption,
            DropReason::NotIpv4Tcp,
            DropReason::NotIpv6Tcp,
            DropReason::Fragment,
            DropReason::NotForUs,
        ] {
            assert_eq!(en.drop_reason(&d), d.name());
            assert_eq!(en.drop_reason_named(d.name()), d.name());
        }
        assert_eq!(en.flag_words(Flags::NONE), Flags::NONE.words());
        assert_eq!(en.key_words("q  Ctrl-C"), "q  Ctrl-C");
        assert_eq!(messages(Lang::Zh).key_words("space Backspace"), "空格 退格");
    }

    #[test]
    fn english_keeps_every_sentence_and_chinese_translates_in_turn() {
        let cause = "FIN received in FIN-WAIT-2; ACK sent; waiting 2 MSL = 240 s";
        assert_eq!(messages(Lang::En).phrase(cause), cause);
        let zh = messages(Lang::Zh).phrase(cause);
        assert!(!zh.contains("received"), "{zh}");
        assert!(zh.contains("240"), "{zh}");
        assert_eq!(
            messages(Lang::Zh).phrase("a scenario's own words"),
            "a scenario's own words"
        );
        // Holes in turn: a capture cut short.
        let cut = "x.pcap is cut short after packet 7 (the file ends in the middle of a record): \
                   everything up to there is shown";
        assert_eq!(
            messages(Lang::Zh).phrase(cut),
            "x.pcap 不完整，截断于第 7 个报文之后（文件在一条记录的中间结束）：显示截断之前的全部内容"
        );
    }
}
