//! Python builtins Starlark lacks, with Python's results: `float_str`, `pow`, `round` and
//! `sum`.

use starlark::environment::GlobalsBuilder;
use starlark::starlark_module;
use starlark::values::float::UnpackFloat;
use starlark::values::none::NoneOr;
use starlark::values::{Heap, UnpackValue, Value};

fn python_round(x: f64, ndigits: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if ndigits >= 0 {
        // Rust prints the exact binary value rounded half-to-even at the requested digit,
        // and parsing is correctly rounded: the same two steps Python's float.__round__ takes.
        let digits = usize::try_from(ndigits.min(340)).unwrap_or(340);
        format!("{x:.digits$}").parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(-ndigits);
        (x / p).round_ties_even() * p
    }
}

/// Python's `repr`/`str` of a float: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in (-4, 16], else scientific (`1e+16`, `1.5e-05`),
/// with `.0` added to integral values.
fn python_float_str(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".to_owned() } else { "-inf".to_owned() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".to_owned() } else { "0.0".to_owned() };
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "-1.2345e3".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let decpt = exp + 1;
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if -4 < decpt && decpt <= 16 {
        let body = if decpt <= 0 {
            format!("0.{}{digits}", "0".repeat(usize::try_from(-decpt).unwrap_or(0)))
        } else if decpt >= n {
            format!("{digits}{}.0", "0".repeat(usize::try_from(decpt - n).unwrap_or(0)))
        } else {
            let (a, b) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let m = if rest.is_empty() { first.to_owned() } else { format!("{first}.{rest}") };
        format!("{sign}{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

#[starlark_module]
pub(super) fn python_builtins(builder: &mut GlobalsBuilder) {
    /// Python's `str()` of a number as a float (`3.0`, `12.5`, `1e+16`).
    fn float_str<'v>(#[starlark(require = pos)] x: Value<'v>) -> anyhow::Result<String> {
        let UnpackFloat(f) = UnpackFloat::unpack_value_err(x).map_err(|e| anyhow::anyhow!("float_str: {e}"))?;
        Ok(python_float_str(f))
    }

    /// Python's `x ** y` for ints and floats (an int result is exact while it fits in 64
    /// bits, then falls back to a float).
    fn pow<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        #[starlark(require = pos)] y: Value<'v>,
        heap: Heap<'v>,
    ) -> anyhow::Result<Value<'v>> {
        let as_float =
            |v: Value<'v>| UnpackFloat::unpack_value_err(v).map(|u| u.0).map_err(|e| anyhow::anyhow!("pow: {e}"));
        let (fx, fy) = (as_float(x)?, as_float(y)?);
        if let (Some(a), Some(b)) = (x.unpack_i32(), y.unpack_i32())
            && b >= 0
            && let Some(r) = i64::from(a).checked_pow(u32::try_from(b).unwrap_or(u32::MAX))
        {
            return Ok(heap.alloc(r));
        }
        if fx == 0.0 && fy < 0.0 {
            return Err(anyhow::anyhow!("0.0 cannot be raised to a negative power"));
        }
        if fx < 0.0 && fy.fract() != 0.0 {
            return Err(anyhow::anyhow!("can't convert complex to float"));
        }
        let r = fx.powf(fy);
        if r.is_infinite() {
            return Err(anyhow::anyhow!("(34, 'Numerical result out of range')"));
        }
        Ok(heap.alloc(r))
    }

    /// Python's `round`: half to even, on the exact binary value.
    fn round<'v>(
        #[starlark(require = pos)] number: Value<'v>,
        #[starlark(require = pos, default = NoneOr::None)] ndigits: NoneOr<i32>,
        heap: Heap<'v>,
    ) -> anyhow::Result<Value<'v>> {
        if number.unpack_i32().is_some() || number.get_type() == "int" {
            return Ok(number);
        }
        let UnpackFloat(x) = UnpackFloat::unpack_value_err(number).map_err(|e| anyhow::anyhow!("round: {e}"))?;
        Ok(match ndigits {
            NoneOr::None => {
                let r = x.round_ties_even();
                if !r.is_finite() {
                    return Err(anyhow::anyhow!("round: cannot convert {x} to an integer"));
                }
                #[allow(clippy::cast_possible_truncation)]
                heap.alloc(r as i64)
            }
            NoneOr::Other(n) => heap.alloc(python_round(x, n)),
        })
    }

    /// Python's `sum`: `start + x1 + x2 + ...`, added in order.
    fn sum<'v>(
        #[starlark(require = pos)] items: Value<'v>,
        #[starlark(require = pos, default = NoneOr::None)] start: NoneOr<Value<'v>>,
        heap: Heap<'v>,
    ) -> starlark::Result<Value<'v>> {
        let mut total = start.into_option().unwrap_or_else(|| heap.alloc(0));
        for x in items.iterate(heap)? {
            total = total.add(x, heap)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::python_round;

    #[test]
    fn float_str_matches_python() {
        use super::python_float_str as f;
        // Values checked against CPython 3.11's str(float).
        let cases = [
            (3.0, "3.0"),
            (12.5, "12.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (1e22, "1e+22"),
            (-0.0, "-0.0"),
            (123.456, "123.456"),
            (5e300, "5e+300"),
        ];
        for (x, want) in cases {
            assert_eq!(f(x), want, "{x}");
        }
    }

    #[test]
    fn round_matches_python() {
        // Values checked against CPython 3.11's round(x, 2).
        assert_eq!(python_round(0.125, 2), 0.12);
        assert_eq!(python_round(0.375, 2), 0.38);
        assert_eq!(python_round(2.675, 2), 2.67);
        assert_eq!(python_round(1.005, 2), 1.0);
        assert_eq!(python_round(-0.125, 2), -0.12);
        assert_eq!(python_round(123.456, 0), 123.0);
        assert_eq!(python_round(1234.5, -1), 1230.0);
    }
}
