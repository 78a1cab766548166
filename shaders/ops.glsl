// ops.glsl — op codes, as lx_unary_op and lx_binary_op in lunox.h. The
// host passes one as specialization constant 1, so a driver compiles only
// the branch for that op.
const int LX_NEG = 0, LX_EXP = 1, LX_LOG = 2, LX_SQRT = 3, LX_ABS = 4, LX_TANH = 5, LX_SIN = 6,
          LX_COS = 7, LX_SIGMOID = 8, LX_ERF = 10, LX_ERF_INV = 11;
const int LX_ADD = 0, LX_SUB = 1, LX_MUL = 2, LX_DIV = 3, LX_POW = 4, LX_MAXIMUM = 5,
          LX_MINIMUM = 6, LX_EQ = 7, LX_NE = 8, LX_LT = 9, LX_LE = 10, LX_GT = 11, LX_GE = 12;
