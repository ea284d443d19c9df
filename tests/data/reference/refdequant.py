# Dequantizes every tensor of the given types in a GGUF with the reference's own
# dequantize_row_* (libggml-base.so of node-llama-cpp) and prints JSON: per tensor
# the name, type, element count, FNV-1a 64 of the float32 bytes and the first 8 values.
import ctypes, json, struct, sys
LIB = sys.argv[1]; path = sys.argv[2]; want = sys.argv[3].split(',')
TYPES = {19: ('IQ1_S', 50), 29: ('IQ1_M', 56), 34: ('TQ1_0', 54), 35: ('TQ2_0', 66)}
lib = ctypes.CDLL(LIB)
data = open(path, 'rb').read()
pos = 0
def rd(fmt):
    global pos
    v = struct.unpack_from('<' + fmt, data, pos); pos += struct.calcsize('<' + fmt); return v[0]
def rstr():
    global pos
    n = rd('Q'); s = data[pos:pos + n].decode('utf-8', 'replace'); pos += n; return s
SIZES = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
def rval(t):
    if t == 8: return rstr()
    if t == 9:
        et = rd('I'); n = rd('Q'); return [rval(et) for _ in range(n)]
    return rd(SIZES[t])
assert data[:4] == b'GGUF'; pos = 4
ver = rd('I'); nt = rd('Q'); nkv = rd('Q')
align = 32
for _ in range(nkv):
    k = rstr(); t = rd('I'); v = rval(t)
    if k == 'general.alignment': align = v
infos = []
for _ in range(nt):
    name = rstr(); nd = rd('I'); dims = [rd('Q') for _ in range(nd)]; t = rd('I'); off = rd('Q')
    infos.append((name, dims, t, off))
base = (pos + align - 1) // align * align
out = []
for name, dims, t, off in infos:
    if t not in TYPES or TYPES[t][0] not in want: continue
    n = 1
    for d in dims: n *= d
    tname, bb = TYPES[t]
    nbytes = n // 256 * bb
    src = ctypes.create_string_buffer(data[base + off: base + off + nbytes], nbytes)
    dst = (ctypes.c_float * n)()
    getattr(lib, 'dequantize_row_' + tname.lower())(src, dst, ctypes.c_int64(n))
    raw = bytes(dst)
    h = 0xcbf29ce484222325
    for b in raw:
        h ^= b; h = (h * 0x100000001b3) & 0xffffffffffffffff
    out.append({'tensor': name, 'type': tname, 'n': n, 'fnv1a64': '%016x' % h, 'first': [float(dst[i]) for i in range(8)]})
print(json.dumps({'model': path.split('/')[-1], 'tensors': out}, indent=1))
