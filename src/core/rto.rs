//! The RTT-adaptive retransmission timeout of the message layer (selected
//! per context with `Timing::adaptive`).
//!
//! RFC 6298's estimator applied to CoAP, as CoCoA (draft-ietf-core-cocoa)
//! does with its "strong" estimator, in integer milliseconds:
//!
//! * a sample is the time from a CON's first transmission to its ACK
//!   (empty or piggybacked). Karn's rule: an exchange that was ever sent
//!   twice gives no sample (the ACK may answer either copy);
//! * first sample `R`: `SRTT = R`, `RTTVAR = R/2`; then
//!   `RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|`, `SRTT = 7/8 SRTT + 1/8 R`;
//! * `RTO = SRTT + 4 RTTVAR`, clamped to [`RTO_MIN_MS`, `RTO_MAX_MS`];
//! * loss: every retransmission timeout doubles the RTO new exchanges
//!   start with (up to `RTO_MAX_MS`) until the next sample; each exchange
//!   doubles its own timeout on every retransmission as RFC 7252 does;
//! * aging: an estimate without a sample for `max(4 RTO, AGE_MIN_MS)` is
//!   pulled half way back to the configured ACK_TIMEOUT, per period, so a
//!   stale path does not keep its old timer for ever.
//!
//! Before the first sample the RTO is the configured ACK_TIMEOUT. The
//! caller applies ACK_RANDOM_FACTOR to the RTO, as it does to
//! ACK_TIMEOUT.

/// The RTO never goes below this (RFC 6298 §2.4).
pub const RTO_MIN_MS: u32 = 1000;
/// Nor above this (RFC 6298 §2.5's 60 s).
pub const RTO_MAX_MS: u32 = 60_000;
/// Shortest time without a sample after which the estimate ages.
pub const AGE_MIN_MS: u32 = 30_000;
/// Longest sample taken (a later ACK says little more).
const SAMPLE_MAX_MS: u32 = 600_000;

/// The measured state: what a stored session keeps across a reboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimate {
    pub srtt_ms: u32,
    pub rttvar_ms: u32,
}

impl RttEstimate {
    /// `SRTT + 4 RTTVAR`, clamped.
    pub fn rto(&self) -> u32 {
        clamp(
            self.srtt_ms
                .saturating_add(self.rttvar_ms.saturating_mul(4)),
        )
    }
}

fn clamp(ms: u32) -> u32 {
    ms.clamp(RTO_MIN_MS, RTO_MAX_MS)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rto {
    estimate: Option<RttEstimate>,
    /// The RTO new exchanges start with (after backoff and aging).
    rto: u32,
    /// ACK_TIMEOUT: the RTO before any sample, and what aging returns to.
    initial: u32,
    /// When the RTO was last set from a sample or aged.
    updated_at: u64,
}

impl Rto {
    pub fn new(initial_ms: u32) -> Self {
        Rto {
            estimate: None,
            rto: initial_ms,
            initial: initial_ms,
            updated_at: 0,
        }
    }

    /// The estimate, if any sample was taken (or restored).
    pub fn estimate(&self) -> Option<RttEstimate> {
        self.estimate
    }

    /// Starts from a stored estimate at `now`.
    pub fn restore(&mut self, now: u64, e: RttEstimate) {
        self.estimate = Some(e);
        self.rto = e.rto();
        self.updated_at = now;
    }

    /// A new ACK_TIMEOUT: without a sample yet, it is the RTO too.
    pub fn set_initial(&mut self, initial_ms: u32) {
        self.initial = initial_ms;
        if self.estimate.is_none() {
            self.rto = initial_ms;
        }
    }

    /// One RTT sample (Karn's rule is the caller's: only exchanges sent
    /// once).
    pub fn sample(&mut self, now: u64, rtt_ms: u64) {
        let r = rtt_ms.min(u64::from(SAMPLE_MAX_MS)) as u32;
        let e = match self.estimate {
            None => RttEstimate {
                srtt_ms: r,
                rttvar_ms: r / 2,
            },
            Some(e) => RttEstimate {
                rttvar_ms: (3 * e.rttvar_ms + e.srtt_ms.abs_diff(r)) / 4,
                srtt_ms: (7 * e.srtt_ms + r) / 8,
            },
        };
        self.estimate = Some(e);
        self.rto = e.rto();
        self.updated_at = now;
    }

    /// A retransmission timer expired: back off until the next sample.
    pub fn backoff(&mut self) {
        self.rto = self.rto.saturating_mul(2).min(RTO_MAX_MS.max(self.initial));
    }

    /// The RTO for an exchange starting at `now`, after aging.
    pub fn current(&mut self, now: u64) -> u32 {
        if self.estimate.is_some() {
            // Bounded: after 16 halvings the distance to `initial` is gone.
            for _ in 0..16 {
                let period = u64::from(self.rto.saturating_mul(4).max(AGE_MIN_MS));
                if now.saturating_sub(self.updated_at) < period {
                    break;
                }
                self.updated_at += period;
                self.rto = if self.rto > self.initial {
                    self.rto - (self.rto - self.initial) / 2
                } else {
                    self.rto + (self.initial - self.rto) / 2
                };
            }
        }
        self.rto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_sets_srtt_and_half_rttvar() {
        let mut r = Rto::new(2000);
        assert_eq!(r.current(0), 2000, "ACK_TIMEOUT before any sample");
        r.sample(3000, 3000);
        assert_eq!(
            r.estimate(),
            Some(RttEstimate {
                srtt_ms: 3000,
                rttvar_ms: 1500
            })
        );
        assert_eq!(r.current(3000), 9000, "3000 + 4 * 1500");
    }

    #[test]
    fn converges_on_a_steady_rtt() {
        let mut r = Rto::new(2000);
        let mut now = 0;
        for _ in 0..40 {
            now += 5000;
            r.sample(now, 4000);
        }
        let e = r.estimate().unwrap();
        assert_eq!(e.srtt_ms, 4000);
        assert!(e.rttvar_ms <= 10, "{e:?}");
        assert!((4000..=4040).contains(&r.current(now)));
        // A step to 6 s: SRTT follows with gain 1/8 and RTTVAR widens
        // the RTO above the new RTT at once.
        r.sample(now, 6000);
        assert_eq!(r.estimate().unwrap().srtt_ms, 4250);
        assert!(r.current(now) > 6000, "{}", r.current(now));
    }

    #[test]
    fn never_below_the_floor_nor_above_the_ceiling() {
        let mut r = Rto::new(2000);
        for t in 0..50 {
            r.sample(t, 1);
        }
        assert_eq!(r.current(50), RTO_MIN_MS);
        let mut r = Rto::new(2000);
        r.sample(0, 10_000_000);
        assert_eq!(r.current(0), RTO_MAX_MS);
        for _ in 0..10 {
            r.backoff();
        }
        assert_eq!(r.current(0), RTO_MAX_MS);
    }

    #[test]
    fn backoff_doubles_until_the_next_sample() {
        let mut r = Rto::new(2000);
        r.sample(0, 2000); // RTO 6000
        r.backoff();
        assert_eq!(r.current(0), 12_000);
        r.backoff();
        assert_eq!(r.current(0), 24_000);
        r.backoff();
        r.backoff();
        assert_eq!(r.current(0), 60_000);
        r.sample(100, 2000); // SRTT 2000, RTTVAR 750
        assert_eq!(r.current(100), 5000);
    }

    #[test]
    fn a_stale_estimate_ages_towards_ack_timeout() {
        let mut r = Rto::new(15_000);
        for t in 0..40u64 {
            r.sample(t * 1000, 2000);
        }
        let rto = r.current(39_000);
        assert!(rto < 2100, "{rto}");
        // Not stale before max(4 RTO, 30 s).
        assert_eq!(r.current(39_000 + 29_999), rto);
        // One period: half way back to 15 s.
        let once = r.current(39_000 + 30_000);
        assert_eq!(once, rto + (15_000 - rto) / 2);
        // The next period is 4 RTO (> 30 s) from there.
        let period = 4 * u64::from(once);
        assert_eq!(r.current(39_000 + 30_000 + period - 1), once);
        let twice = r.current(39_000 + 30_000 + period);
        assert_eq!(twice, once + (15_000 - once) / 2);
        // Hours later: back at ACK_TIMEOUT (within a rounding step).
        assert!(r.current(10_000_000) >= 14_990);
        // A fresh sample counts at once.
        r.sample(10_000_000, 2000);
        assert!(r.current(10_000_000) < 15_000);
    }

    #[test]
    fn an_estimate_above_ack_timeout_ages_down() {
        let mut r = Rto::new(2000);
        r.sample(0, 8000); // 8000 + 16000
        assert_eq!(r.current(0), 24_000);
        assert_eq!(r.current(96_000), 24_000 - 22_000 / 2);
    }

    #[test]
    fn restored_estimate_counts_from_the_restore() {
        let mut r = Rto::new(2000);
        r.restore(
            1_000_000,
            RttEstimate {
                srtt_ms: 3000,
                rttvar_ms: 500,
            },
        );
        assert_eq!(r.current(1_000_000), 5000);
        assert_eq!(r.current(1_000_000 + 29_999), 5000);
        r.set_initial(15_000);
        assert_eq!(r.current(1_000_000), 5000, "a measured RTO stays");
    }
}
