// floatbits.glsl — the float operations the CPU performs exactly, done on
// bit patterns of the input dtype (IN): comparisons, maximum/minimum,
// negation, abs, == 0. On bits they are exact on every device, whatever it
// does with denormals (flushing them would make 1e-40 == 0) or NaNs.
//
// FB is the bit type: uint for float32/float16/bfloat16, uvec2 (low, high
// word) for float64, which thus needs no shaderInt64.

#if DT_IS_F32ISH(IN_DT)
#define FB uint
bool fb_nan(FB b) { return (b & IN_MAG) > IN_INF; }
bool fb_zero(FB b) { return (b & IN_MAG) == 0u; }
bool fb_neg(FB b) { return (b & IN_SIGN) != 0u; }
bool fb_mag_less(FB a, FB b) { return (a & IN_MAG) < (b & IN_MAG); }
FB fb_flip(FB b) { return b ^ IN_SIGN; }
FB fb_abs(FB b) { return b & IN_MAG; }
// The CPU computes 16-bit floats in float32 and rounds back, which quiets
// a signalling NaN; float32 values are copied as they are (IN_QUIET = 0).
FB fb_quiet(FB b) { return fb_nan(b) ? b | IN_QUIET : b; }
#elif IN_DT == DT_f64
#define FB uvec2
bool fb_nan(FB b) {
  uint hi = b.y & 0x7fffffffu;
  return hi > 0x7ff00000u || (hi == 0x7ff00000u && b.x != 0u);
}
bool fb_zero(FB b) { return (b.y & 0x7fffffffu) == 0u && b.x == 0u; }
bool fb_neg(FB b) { return (b.y & 0x80000000u) != 0u; }
bool fb_mag_less(FB a, FB b) {
  uint ha = a.y & 0x7fffffffu, hb = b.y & 0x7fffffffu;
  return ha < hb || (ha == hb && a.x < b.x);
}
FB fb_flip(FB b) { return uvec2(b.x, b.y ^ 0x80000000u); }
FB fb_abs(FB b) { return uvec2(b.x, b.y & 0x7fffffffu); }
FB fb_quiet(FB b) { return b; }
#endif

#ifdef FB
// IEEE comparisons: NaN is unordered, -0 == +0.
bool fb_eq(FB a, FB b) {
  return !fb_nan(a) && !fb_nan(b) && (a == b || (fb_zero(a) && fb_zero(b)));
}
bool fb_lt(FB a, FB b) {
  if (fb_nan(a) || fb_nan(b)) return false;
  bool za = fb_zero(a), zb = fb_zero(b);
  if (za && zb) return false;
  bool na = fb_neg(a) && !za, nb = fb_neg(b) && !zb;
  if (na != nb) return na;
  return na ? fb_mag_less(b, a) : fb_mag_less(a, b);
}
bool fb_le(FB a, FB b) { return fb_lt(a, b) || fb_eq(a, b); }
// NaN-propagating, exactly the CPU's (x > y || x != x) ? x : y.
FB fb_maximum(FB a, FB b) { return fb_quiet(fb_lt(b, a) || fb_nan(a) ? a : b); }
FB fb_minimum(FB a, FB b) { return fb_quiet(fb_lt(a, b) || fb_nan(a) ? a : b); }
#endif
