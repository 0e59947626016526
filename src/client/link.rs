//! The driver's policies about the link to the platform, as a sans-IO
//! state machine: when a session is presumed dead, when a failing
//! endpoint counts as unreachable, when to try a new transport, and when
//! an outage is reported. [`super::Client`] feeds it the clock and what
//! happened, and does what it decides; the rules themselves run here,
//! under unit tests with exact timings, instead of only in end-to-end
//! tests.
//!
//! Which rules apply depends on one property of the transport
//! ([`crate::platform::Transport::session_can_die`]), not on the URL
//! scheme: a transport with a session the server can lose (DTLS) is
//! judged by its silence and rebuilt; one without (plain UDP, where the
//! network reports a closed port) is judged by its refusals.

/// A session with no answer through this many retransmissions...
const SILENT_RETRANSMISSIONS: u32 = 2;
/// ...and this many ACK timeouts of silence is presumed dead. Two
/// retransmissions alone are no sign: many messages in flight retransmit
/// in bursts, and a CON re-sent over a new session is a new request to
/// the server (the lossy-network soak found it accepted twice). Silence
/// through two retransmissions of one exchange is about four timeouts; a
/// lossy but live server answers something in that time.
const SILENT_ACK_TIMEOUTS: u64 = 4;

/// Receive errors in a row, with requests waiting, after which the
/// endpoint counts as unreachable. Each datagram sent to a closed port
/// earns one error, so this is the first retransmission (2-3 s) instead
/// of the whole RFC 7252 schedule (~45-93 s).
const REFUSALS_UNREACHABLE: u8 = 2;

/// Backoff between failed attempts at a new transport: the first retry
/// after 1 s, doubling up to 60 s, each drawn from the upper half of its
/// step so that a fleet that lost its server does not come back in step.
const RECONNECT_FIRST_MS: u32 = 1000;
const RECONNECT_MAX_MS: u32 = 60_000;

/// The wait before the next attempt after `failures` (>= 1) in a row.
fn reconnect_delay(failures: u32, random: u32) -> u64 {
    let step = RECONNECT_FIRST_MS
        .checked_shl(failures.saturating_sub(1).min(16))
        .map_or(RECONNECT_MAX_MS, |d| d.min(RECONNECT_MAX_MS));
    u64::from(step / 2 + random % (step / 2 + 1))
}

/// What the session has counted so far (from its `Stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub retransmissions: u32,
    pub rx_datagrams: u32,
}

/// What to do about a receive error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The first failure of this outage: report it (RECV_FAILED).
    pub report: bool,
    /// Nobody listens: give up every waiting request now.
    pub give_up: bool,
}

pub(crate) struct Link {
    /// The transport's session can die unannounced (see the module docs).
    session_can_die: bool,
    /// The session's counts when something last came in (or the transport
    /// began), and when that was: silence is measured from it.
    progress: Progress,
    progress_at: u64,
    /// Receive errors since a datagram last came in.
    refusals: u8,
    /// The last requests were given up as unreachable (for the auth).
    unreachable: bool,
    /// The current outage was reported; cleared by the next datagram in.
    outage_reported: bool,
    /// A thread is creating a new transport (outside the client's lock).
    connecting: bool,
    /// New transports that failed in a row, and when the next may be tried.
    connect_failures: u32,
    connect_at: u64,
}

impl Link {
    /// A link whose transport came up at `now`.
    pub(crate) fn new(now: u64, session_can_die: bool) -> Self {
        Link {
            session_can_die,
            progress: Progress::default(),
            progress_at: now,
            refusals: 0,
            unreachable: false,
            outage_reported: false,
            connecting: false,
            connect_failures: 0,
            connect_at: 0,
        }
    }

    /// A datagram came in: the link works, whatever it did before.
    pub(crate) fn datagram_received(&mut self) {
        self.refusals = 0;
        self.unreachable = false;
        self.outage_reported = false;
    }

    /// Whether the live transport should be dropped as dead at `now`
    /// (only a session that can die; `progress` is the session's now).
    pub(crate) fn is_dead(&mut self, now: u64, progress: Progress, ack_timeout_ms: u32) -> bool {
        if progress.rx_datagrams != self.progress.rx_datagrams {
            self.progress = progress;
            self.progress_at = now;
            return false;
        }
        self.session_can_die
            && progress.retransmissions
                >= self
                    .progress
                    .retransmissions
                    .saturating_add(SILENT_RETRANSMISSIONS)
            && now.saturating_sub(self.progress_at)
                >= SILENT_ACK_TIMEOUTS * u64::from(ack_timeout_ms)
    }

    /// A receive failed, with `in_flight` requests waiting. A session that
    /// can die is rebuilt instead (its refusals say nothing of the
    /// endpoint), so only the report applies to it.
    pub(crate) fn receive_failed(&mut self, in_flight: usize) -> Refusal {
        let give_up = !self.session_can_die && {
            self.refusals = self.refusals.saturating_add(1);
            self.refusals >= REFUSALS_UNREACHABLE && in_flight > 0
        };
        if give_up {
            self.unreachable = true;
        }
        Refusal {
            report: self.first_of_outage(),
            give_up,
        }
    }

    /// The last waiting requests were given up because nothing listens.
    pub(crate) fn unreachable(&self) -> bool {
        self.unreachable
    }

    fn first_of_outage(&mut self) -> bool {
        !core::mem::replace(&mut self.outage_reported, true)
    }

    /// Whether the caller should create a new transport now: none is live
    /// (`have_transport`), no other thread is at it, and the backoff has
    /// passed unless `now_or_never` (an explicit auth). Claims the attempt:
    /// [`Link::connected`] or [`Link::connect_failed`] must follow.
    pub(crate) fn claim_connect(
        &mut self,
        now: u64,
        have_transport: bool,
        now_or_never: bool,
    ) -> bool {
        if have_transport || self.connecting || (!now_or_never && now < self.connect_at) {
            return false;
        }
        self.connecting = true;
        true
    }

    /// The claimed attempt gave a new transport at `now`; the session had
    /// counted `progress` by then.
    pub(crate) fn connected(&mut self, now: u64, progress: Progress) {
        self.connecting = false;
        self.connect_failures = 0;
        self.progress = progress;
        self.progress_at = now;
    }

    /// The claimed attempt failed at `now`; `random` draws the backoff.
    /// `true` when this is the first failure of an outage (to report).
    pub(crate) fn connect_failed(&mut self, now: u64, random: u32) -> bool {
        self.connecting = false;
        self.connect_failures = self.connect_failures.saturating_add(1);
        self.connect_at = now + reconnect_delay(self.connect_failures, random);
        self.first_of_outage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK_TIMEOUT_MS: u32 = 2000;

    fn counted(retransmissions: u32, rx_datagrams: u32) -> Progress {
        Progress {
            retransmissions,
            rx_datagrams,
        }
    }

    const REPORT: Refusal = Refusal {
        report: true,
        give_up: false,
    };
    const QUIET: Refusal = Refusal {
        report: false,
        give_up: false,
    };
    const GIVE_UP: Refusal = Refusal {
        report: false,
        give_up: true,
    };

    #[test]
    fn one_recv_failed_per_outage() {
        for can_die in [false, true] {
            let mut l = Link::new(0, can_die);
            assert!(l.receive_failed(0).report);
            for _ in 0..10 {
                assert!(!l.receive_failed(0).report, "can_die {can_die}");
            }
            // A failed new session in the same outage is no second report.
            assert!(l.claim_connect(100, false, false));
            assert!(!l.connect_failed(100, 0));
            // Something came in: the outage is over; the next one is told.
            l.datagram_received();
            assert!(l.receive_failed(0).report);
        }
        // An outage may begin with a failed new session, too.
        let mut l = Link::new(0, true);
        assert!(l.claim_connect(0, false, false));
        assert!(l.connect_failed(0, 0));
        assert!(!l.receive_failed(0).report);
        assert!(l.claim_connect(1000, false, false));
        assert!(!l.connect_failed(1000, 0));
    }

    /// After the `k`-th failure in a row at `now`, the next attempt is
    /// allowed at exactly `now + delay`, not a millisecond before.
    fn next_attempt(l: &mut Link, now: u64, random: u32, delay: u64) {
        l.connect_failed(now, random);
        assert!(!l.claim_connect(now + delay - 1, false, false), "{delay}");
        assert!(l.claim_connect(now + delay, false, false), "{delay}");
    }

    #[test]
    fn backoff_doubles_from_1s_to_60s_drawn_from_the_upper_half_of_each_step() {
        let steps = [
            1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
        ];
        // The least and the most a draw can give: half the step, the step.
        for low in [true, false] {
            let draw = |step: u32| if low { 0 } else { step / 2 };
            let mut l = Link::new(0, true);
            let mut now = 0;
            assert!(l.claim_connect(now, false, false), "the first is at once");
            for step in steps {
                let delay = if low { step / 2 } else { step };
                next_attempt(&mut l, now, draw(step), u64::from(delay));
                now += u64::from(delay);
            }
            // Many failures later, still capped.
            for _ in 0..40 {
                l.connect_failed(now, draw(60_000));
                now += 60_000;
                assert!(l.claim_connect(now, false, false));
            }
        }
        // Any draw lands in the upper half of its step.
        let mut l = Link::new(0, true);
        assert!(l.claim_connect(0, false, false));
        let mut x = 0x9e37_79b9u32;
        for (k, step) in steps.iter().map(|&s| u64::from(s)).enumerate() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let now = 1_000_000 * (k as u64 + 1);
            l.connect_failed(now, x);
            assert!(!l.claim_connect(now + step / 2 - 1, false, false));
            assert!(l.claim_connect(now + step, false, false));
        }
    }

    #[test]
    fn one_attempt_at_a_time_and_a_success_starts_the_backoff_again() {
        let mut l = Link::new(0, true);
        assert!(!l.claim_connect(0, true, false), "a live transport");
        assert!(l.claim_connect(0, false, false));
        assert!(!l.claim_connect(0, false, true), "another thread is at it");
        next_attempt(&mut l, 0, 0, 500);
        next_attempt(&mut l, 500, 0, 1000);
        // An explicit auth does not wait for the backoff.
        l.connect_failed(1500, 0);
        assert!(l.claim_connect(1500, false, true));
        l.connected(1600, counted(0, 0));
        assert!(l.claim_connect(5000, false, false));
        next_attempt(&mut l, 5000, 0, 500);
    }

    #[test]
    fn two_refusals_while_requests_wait_give_them_up() {
        let mut l = Link::new(0, false);
        assert_eq!(l.receive_failed(1), REPORT);
        assert!(!l.unreachable());
        assert_eq!(l.receive_failed(1), GIVE_UP);
        assert!(l.unreachable());
        l.datagram_received();
        assert!(!l.unreachable());

        // Refusals in a row count, whether requests waited or not...
        let mut l = Link::new(0, false);
        for _ in 0..5 {
            assert!(!l.receive_failed(0).give_up, "nothing to give up");
        }
        assert_eq!(l.receive_failed(3), GIVE_UP);
        // ...and a datagram in between breaks the row.
        let mut l = Link::new(0, false);
        assert_eq!(l.receive_failed(1), REPORT);
        l.datagram_received();
        assert_eq!(l.receive_failed(1), REPORT);
        assert_eq!(l.receive_failed(1), GIVE_UP);
    }

    /// A session that can die is rebuilt instead: its refusals say
    /// nothing of the endpoint.
    #[test]
    fn refusals_never_give_up_on_a_session_that_can_die() {
        let mut l = Link::new(0, true);
        assert_eq!(l.receive_failed(5), REPORT);
        for _ in 0..10 {
            assert_eq!(l.receive_failed(5), QUIET);
        }
        assert!(!l.unreachable());
    }

    #[test]
    fn dtls_session_dead_after_two_retransmissions_and_8s_of_silence() {
        let mut l = Link::new(1000, true);
        assert!(!l.is_dead(1000, counted(2, 0), ACK_TIMEOUT_MS), "a burst");
        assert!(!l.is_dead(8999, counted(2, 0), ACK_TIMEOUT_MS));
        assert!(l.is_dead(9000, counted(2, 0), ACK_TIMEOUT_MS));

        // One retransmission is no sign, however long the silence.
        let mut l = Link::new(1000, true);
        assert!(!l.is_dead(500_000, counted(1, 0), ACK_TIMEOUT_MS));
        assert!(l.is_dead(500_000, counted(2, 0), ACK_TIMEOUT_MS));

        // A datagram in: silence and retransmissions count from then.
        let mut l = Link::new(0, true);
        assert!(!l.is_dead(5000, counted(3, 1), ACK_TIMEOUT_MS));
        assert!(!l.is_dead(60_000, counted(4, 1), ACK_TIMEOUT_MS));
        assert!(!l.is_dead(12_999, counted(5, 1), ACK_TIMEOUT_MS));
        assert!(l.is_dead(13_000, counted(5, 1), ACK_TIMEOUT_MS));

        // Four ACK timeouts, whatever the timeout.
        let mut l = Link::new(0, true);
        assert!(!l.is_dead(3999, counted(2, 0), 1000));
        assert!(l.is_dead(4000, counted(2, 0), 1000));

        // A new session starts the count afresh.
        let mut l = Link::new(0, true);
        assert!(l.claim_connect(0, false, false));
        l.connected(50_000, counted(10, 0));
        assert!(!l.is_dead(57_999, counted(12, 0), ACK_TIMEOUT_MS));
        assert!(l.is_dead(58_000, counted(12, 0), ACK_TIMEOUT_MS));
    }

    #[test]
    fn plain_datagrams_are_never_judged_by_silence() {
        let mut l = Link::new(0, false);
        assert!(!l.is_dead(10_000_000, counted(1000, 0), ACK_TIMEOUT_MS));
    }
}
