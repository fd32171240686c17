//! How the horizon is cut into time buckets (fixed lengths or calendar months) and which
//! bucket an instant falls in.

use crate::time::{month_floor, next_month, Millis};
use serde::Serialize;

/// How the horizon is cut into buckets for series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Fixed { ms: Millis },
    Month,
}

/// Bucket boundaries over [start, end).
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    pub starts: Vec<Millis>,
    pub end: Millis,
}

impl Buckets {
    pub fn new(kind: Bucket, start: Millis, end: Millis) -> Buckets {
        let mut starts = vec![start];
        loop {
            let last = *starts.last().expect("non-empty");
            let next = match kind {
                Bucket::Fixed { ms } => last + ms,
                Bucket::Month => next_month(month_floor(last)),
            };
            if next >= end {
                break;
            }
            starts.push(next);
        }
        Buckets { starts, end }
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// End (exclusive) of bucket `i`.
    pub fn end_of(&self, i: usize) -> Millis {
        self.starts.get(i + 1).copied().unwrap_or(self.end)
    }

    /// Index of the bucket holding `t` (clamped to the first and last).
    pub fn index(&self, t: Millis) -> usize {
        self.starts.partition_point(|s| *s <= t).saturating_sub(1)
    }

    /// [`Buckets::index`] of `t` found by walking on from bucket `from`, which must not be
    /// past it: for times in order, where a binary search per login cost more.
    pub fn index_from(&self, from: usize, t: Millis) -> usize {
        let mut b = from;
        while b + 1 < self.starts.len() && self.starts[b + 1] <= t {
            b += 1;
        }
        debug_assert_eq!(b, self.index(t));
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_rfc3339, DAY};

    #[test]
    fn month_buckets_follow_the_calendar() {
        let s = parse_rfc3339("2026-01-15").unwrap();
        let e = parse_rfc3339("2026-04-01").unwrap();
        let b = Buckets::new(Bucket::Month, s, e);
        assert_eq!(
            b.starts,
            vec![
                s,
                parse_rfc3339("2026-02-01").unwrap(),
                parse_rfc3339("2026-03-01").unwrap()
            ]
        );
        assert_eq!(b.index(parse_rfc3339("2026-02-28T23:00:00Z").unwrap()), 1);
        let f = Buckets::new(Bucket::Fixed { ms: 7 * DAY }, 0, 15 * DAY);
        assert_eq!(f.starts, vec![0, 7 * DAY, 14 * DAY]);
    }
}
