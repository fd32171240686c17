//! Small statistics shared by the analysis, its tables, charts and fitted scenario: Student's
//! t quantile, interpolated quantiles, mean and standard deviation.

/// The two-sided 95% quantile of Student's t with `dof` degrees of freedom: tabulated up to
/// 8 (where the expansion errs, by 24% at 1), then the Cornish-Fisher expansion (within 0.02%).
pub fn t95(dof: usize) -> f64 {
    const TABLE: [f64; 8] = [
        12.706_204_7,
        4.302_652_7,
        3.182_446_3,
        2.776_445_1,
        2.570_581_8,
        2.446_911_9,
        2.364_624_3,
        2.306_004_1,
    ];
    if let Some(t) = TABLE.get(dof.max(1) - 1) {
        return *t;
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = dof as f64;
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
}

/// The `q` quantile of sorted values, interpolated between neighbours; None when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (i, f) = (pos.floor() as usize, pos.fract());
    Some(sorted[i] + f * (sorted.get(i + 1).copied().unwrap_or(sorted[i]) - sorted[i]))
}

/// Mean and sample standard deviation (0 for one value); None when empty.
pub fn mean_sd(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((m, var.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        for (dof, t) in [
            (1, 12.706),
            (2, 4.303),
            (3, 3.182),
            (5, 2.571),
            (8, 2.306),
            (9, 2.262),
            (10, 2.228),
            (30, 2.042),
            (1000, 1.962),
        ] {
            assert!(
                (t95(dof) - t).abs() / t < 0.0005,
                "{dof}: {} vs {t}",
                t95(dof)
            );
        }
    }
}
