//! A log-binned histogram of clock errors (2% bins, exact counts) whose percentiles are within
//! 1% and whose merge is addition.

use serde::Serialize;

/// Bins grow by 2%: percentiles are within 1% of the true value.
const GROWTH: f64 = 1.02;
const BINS: usize = 1600;

/// The 1/64-octave slice holding `ms` > 0: its octave and the six bits after the leading one.
fn slice(ms: u64) -> usize {
    let e = 63 - ms.leading_zeros() as usize;
    let j = if e >= 6 {
        (ms >> (e - 6)) & 63
    } else {
        (ms << (6 - e)) & 63
    };
    e * 64 + j as usize
}

/// Lookup tables for [`OffsetHist::bin`].
struct BinTables {
    /// The bin of the smallest millisecond count in each slice.
    slice_first: Vec<u16>,
    /// `edge[k]`: the smallest count in bin k or above (`edge[BINS]` stands for none).
    edge: Vec<u64>,
}

fn bin_tables() -> &'static BinTables {
    static TABLES: std::sync::OnceLock<BinTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut slice_first = vec![0u16; 64 * 64];
        for e in 0..64usize {
            for j in 0..64u64 {
                // The smallest count in slice (e, j); below 64 a slice holds one count or none.
                let lo = if e >= 6 {
                    (64 + j) << (e - 6)
                } else {
                    let v = (64 + j) >> (6 - e);
                    if slice(v) != e * 64 + j as usize {
                        continue;
                    }
                    v
                };
                slice_first[e * 64 + j as usize] = OffsetHist::bin_by_log(lo) as u16;
            }
        }
        let mut edge = vec![u64::MAX; BINS + 1];
        edge[0] = 0;
        let mut ms = 1u64;
        for (k, e) in edge.iter_mut().enumerate().take(BINS).skip(1) {
            // From just below 1.02^(k-1) upwards (edges never go down).
            let guess = (GROWTH.powf(k as f64 - 1.0) * (1.0 - 1e-12)) as u64;
            ms = ms.max(guess.saturating_sub(2)).max(1);
            while OffsetHist::bin_by_log(ms) < k {
                ms += 1;
            }
            *e = ms;
        }
        BinTables { slice_first, edge }
    })
}

/// Histogram of absolute clock errors in milliseconds on log bins. Only the span of bins
/// between the lowest and highest one used is stored (canonical for any order of recording
/// or merging), so memory follows the spread of the data, not buckets times all bins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OffsetHist {
    /// The first stored bin.
    lo: usize,
    /// Counts of bins lo, lo + 1, ...
    bins: Vec<u64>,
    pub count: u64,
    pub max_ms: u64,
}

impl OffsetHist {
    /// The bin of `ms`: 0 for 0, else 1 + ⌊ln ms / ln 1.02⌋ (capped), by definition.
    fn bin_by_log(ms: u64) -> usize {
        if ms == 0 {
            0
        } else {
            (1 + ((ms as f64).ln() / GROWTH.ln()) as usize).min(BINS - 1)
        }
    }

    /// [`OffsetHist::bin_by_log`] from two table lookups instead of a logarithm (two of
    /// which every login paid). Each slice of 1/64 of an octave spans a ratio under 1.02, so
    /// it holds at most one bin edge: the bin is the slice's first bin, or the next one from
    /// the edge. Both tables are built with `bin_by_log` itself, so the answer is the same.
    #[inline]
    fn bin(ms: u64) -> usize {
        if ms == 0 {
            return 0;
        }
        let t = bin_tables();
        let b = t.slice_first[slice(ms)] as usize;
        (b + (ms >= t.edge[b + 1]) as usize).min(BINS - 1)
    }

    /// Makes bins `from..=to` addressable, keeping the stored span minimal.
    fn cover(&mut self, from: usize, to: usize) {
        if self.bins.is_empty() {
            self.lo = from;
            self.bins = vec![0; to - from + 1];
            return;
        }
        if from < self.lo {
            let mut v = vec![0; self.lo - from];
            v.extend_from_slice(&self.bins);
            self.bins = v;
            self.lo = from;
        }
        let hi = self.lo + self.bins.len() - 1;
        if to > hi {
            self.bins.resize(to - self.lo + 1, 0);
        }
    }

    pub fn record_s(&mut self, abs_offset_s: f64) {
        self.record_located(Self::locate(abs_offset_s));
    }

    /// Where an offset goes: (whole milliseconds, bin), for [`OffsetHist::record_located`].
    pub fn locate(abs_offset_s: f64) -> (u64, usize) {
        let ms = crate::time::ms_of_s(abs_offset_s.abs()) as u64;
        (ms, Self::bin(ms))
    }

    /// [`OffsetHist::record_s`] of an offset already located.
    #[inline]
    pub fn record_located(&mut self, (ms, b): (u64, usize)) {
        // Most records land in a bin already stored: one bounds check instead of `cover`.
        match self.bins.get_mut(b.wrapping_sub(self.lo)) {
            Some(n) => *n += 1,
            None => {
                self.cover(b, b);
                self.bins[b - self.lo] += 1;
            }
        }
        self.count += 1;
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn merge(&mut self, o: &OffsetHist) {
        if o.bins.is_empty() {
            return;
        }
        self.cover(o.lo, o.lo + o.bins.len() - 1);
        for (i, c) in o.bins.iter().enumerate() {
            self.bins[o.lo + i - self.lo] += c;
        }
        self.count += o.count;
        self.max_ms = self.max_ms.max(o.max_ms);
    }

    /// The q-quantile in seconds (the geometric middle of its bin, never above the max).
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (k, c) in self.bins.iter().enumerate() {
            seen += c;
            if seen >= target {
                let i = self.lo + k;
                let ms = if i == 0 {
                    0.0
                } else {
                    GROWTH.powf(i as f64 - 0.5)
                };
                return Some((ms.min(self.max_ms as f64) / 1000.0 * 1000.0).round() / 1000.0);
            }
        }
        Some(self.max_ms as f64 / 1000.0)
    }

    pub fn max_s(&self) -> Option<f64> {
        (self.count > 0).then(|| self.max_ms as f64 / 1000.0)
    }

    /// Counts per bin with each bin's lower and upper edge in seconds (non-empty bins only).
    pub fn bins_s(&self) -> Vec<(f64, f64, u64)> {
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(k, c)| {
                let i = self.lo + k;
                let lo = if i == 0 {
                    0.0
                } else {
                    GROWTH.powf(i as f64 - 1.0) / 1000.0
                };
                (lo, GROWTH.powf(i as f64) / 1000.0, *c)
            })
            .collect()
    }

    /// The share of values above `edge_s`: whole bins above it, and the straddling bin in
    /// proportion (its 2% width is the only uncertainty).
    pub fn share_above_s(&self, edge_s: f64) -> Option<f64> {
        (self.count > 0).then(|| {
            let above: f64 = self
                .bins_s()
                .iter()
                .map(|&(lo, hi, c)| {
                    if lo >= edge_s {
                        c as f64
                    } else if hi > edge_s {
                        c as f64 * (hi - edge_s) / (hi - lo)
                    } else {
                        0.0
                    }
                })
                .sum();
            above / self.count as f64
        })
    }

    /// Bins stored (for memory tests).
    pub fn stored_bins(&self) -> usize {
        self.bins.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bin_lookup_gives_the_logarithms_bin_for_every_count() {
        // Every count to 2 million (offsets to half an hour), and each side of every edge.
        for ms in 0..2_000_000u64 {
            assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms), "{ms} ms");
        }
        let t = bin_tables();
        for k in 1..BINS {
            let e = t.edge[k];
            assert!(OffsetHist::bin_by_log(e) >= k && OffsetHist::bin_by_log(e - 1) < k);
            for ms in e.saturating_sub(3)..=e.saturating_add(3) {
                assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms), "{ms} ms");
            }
        }
        // Past the last edge everything is capped in the last bin.
        for ms in [t.edge[BINS - 1], u64::MAX / 3, u64::MAX] {
            assert_eq!(OffsetHist::bin(ms), BINS - 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_bin_lookup_agrees_at_any_magnitude(bits in 0u32..64, x: u64) {
            let ms = x >> bits;
            proptest::prop_assert_eq!(OffsetHist::bin(ms), OffsetHist::bin_by_log(ms));
        }
    }

    #[test]
    fn histograms_store_only_the_span_used_whatever_the_order() {
        let values = [0.5, 0.51, 3.0, 0.2, 1.0];
        let mut one = OffsetHist::default();
        values.iter().for_each(|v| one.record_s(*v));
        // Recorded in two parts, merged the other way round: the same histogram.
        let (mut a, mut b) = (OffsetHist::default(), OffsetHist::default());
        values[..2].iter().for_each(|v| a.record_s(*v));
        values[2..].iter().for_each(|v| b.record_s(*v));
        b.merge(&a);
        assert_eq!(b, one);
        // 0.2 s to 3 s is about 137 bins of 2%, not 1,600.
        assert!(one.stored_bins() < 140, "{}", one.stored_bins());
        // The median, 0.51 s, to within the bins' 1%.
        assert!((one.quantile_s(0.5).unwrap() / 0.51 - 1.0).abs() < 0.01);
    }

    #[test]
    fn quantiles_within_one_percent() {
        let mut h = OffsetHist::default();
        for i in 1..=1000 {
            h.record_s(i as f64);
        }
        for (q, want) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile_s(q).unwrap();
            assert!((got / want - 1.0).abs() < 0.011, "q{q}: {got}");
        }
        assert_eq!(h.max_s(), Some(1000.0));
        assert_eq!(OffsetHist::default().quantile_s(0.5), None);
    }

    #[test]
    fn merge_is_split_independent() {
        let vals: Vec<f64> = (0..500)
            .map(|i| (i as f64 * 0.37).sin().abs() * 1e4)
            .collect();
        let mut whole = OffsetHist::default();
        vals.iter().for_each(|v| whole.record_s(*v));
        let (mut a, mut b) = (OffsetHist::default(), OffsetHist::default());
        vals[..123].iter().for_each(|v| a.record_s(*v));
        vals[123..].iter().for_each(|v| b.record_s(*v));
        b.merge(&a);
        assert_eq!(whole, b);
    }
}
