//! Seeded, reproducible fault injection for one direction of one listener.
//!
//! Every datagram draws exactly four numbers from the direction's own PRNG
//! (drop, duplicate, delay, reorder), whatever the outcome, so a fixed seed
//! and the same traffic give the same faults.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::FaultRates;

/// What to do with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    pub drop: bool,
    pub dup: bool,
    pub delay: bool,
    pub reorder: bool,
}

pub struct FaultInjector {
    rates: FaultRates,
    rng: StdRng,
}

impl FaultInjector {
    pub fn new(rates: FaultRates, seed: u64) -> Self {
        FaultInjector {
            rates,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.rates.is_zero()
    }

    pub fn judge(&mut self) -> Verdict {
        if !self.is_active() {
            return Verdict::default();
        }
        let d: f64 = self.rng.gen();
        let u: f64 = self.rng.gen();
        let l: f64 = self.rng.gen();
        let r: f64 = self.rng.gen();
        if d < self.rates.drop {
            return Verdict {
                drop: true,
                ..Verdict::default()
            };
        }
        Verdict {
            drop: false,
            dup: u < self.rates.dup,
            delay: l < self.rates.delay,
            reorder: r < self.rates.reorder,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_close_to_rates() {
        let rates = FaultRates {
            drop: 0.2,
            dup: 0.1,
            delay: 0.05,
            reorder: 0.0,
        };
        let mut a = FaultInjector::new(rates, 7);
        let mut b = FaultInjector::new(rates, 7);
        let va: Vec<_> = (0..10_000).map(|_| a.judge()).collect();
        let vb: Vec<_> = (0..10_000).map(|_| b.judge()).collect();
        assert_eq!(va, vb);
        let drops = va.iter().filter(|v| v.drop).count();
        assert!((1700..2300).contains(&drops), "{drops}");
        assert!(va.iter().all(|v| !v.reorder));
    }
}
