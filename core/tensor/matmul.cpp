// STUB
#include "tensor/matmul.h"
