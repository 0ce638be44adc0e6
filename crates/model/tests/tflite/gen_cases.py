"""Cross-check cases for dsc-model from TFLite's own int8 reference kernels.

Builds random single-op CONV_2D / DEPTHWISE_CONV_2D int8 models (per-channel weights, SAME
padding, stride 1 or 2, fused NONE/RELU/RELU6), runs each through the interpreter with the
reference op resolver (BUILTIN_REF, not the optimized or XNNPACK paths) and prints inputs,
parameters (float32 scales as their bit patterns) and outputs as JSON on stdout.

Three families: random scales and full-range data (weights include -128); effective
multiplier exactly 2^-k with small accumulators (ties in SaturatingRoundingDoublingHighMul
whenever the accumulator is odd); effective multipliers above 1 (positive shifts, including
left shifts that overflow int32).

Usage (in a Python venv with `pip install ai-edge-litert flatbuffers numpy`):
    python gen_cases.py COUNT SEED > cases.json
    DSC_TFLITE_CASES=cases.json cargo test -p dsc-model --test tflite_crosscheck -- --ignored
"""
import json, sys
import numpy as np
import flatbuffers
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType

rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 0)

def f32bits(a):
    return [int(v) for v in np.asarray(a, dtype=np.float32).view(np.uint32)]

def qparams(scales, zps, dim=0):
    q = s.QuantizationParametersT()
    q.scale = [float(v) for v in scales]
    q.zeroPoint = [int(v) for v in zps]
    q.quantizedDimension = dim
    return q

def tensor(name, shape, ttype, buf, q):
    t = s.TensorT()
    t.name = name; t.shape = list(shape); t.type = ttype; t.buffer = buf; t.quantization = q
    return t

def buffer(data=None):
    b = s.BufferT()
    if data is not None:
        b.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
    return b

def run_case(kind, stride, act, x, w, bias, in_scale, in_zp, w_scales, out_scale, out_zp):
    n, h, wd, m = x.shape
    oc = w.shape[0] if kind == "conv" else w.shape[3]
    oh, ow = -(-h // stride), -(-wd // stride)
    model = s.ModelT(); model.version = 3
    code = s.BuiltinOperator.CONV_2D if kind == "conv" else s.BuiltinOperator.DEPTHWISE_CONV_2D
    opc = s.OperatorCodeT(); opc.builtinCode = code; opc.deprecatedBuiltinCode = code; opc.version = 3
    model.operatorCodes = [opc]
    model.buffers = [buffer(), buffer(), buffer(w.astype(np.int8)), buffer(bias.astype(np.int32)), buffer()]
    tensors = [
        tensor(b"in", x.shape, s.TensorType.INT8, 1, qparams([in_scale], [in_zp])),
        tensor(b"w", w.shape, s.TensorType.INT8, 2, qparams(w_scales, [0] * oc, 0 if kind == "conv" else 3)),
        tensor(b"b", [oc], s.TensorType.INT32, 3,
               qparams([np.float32(in_scale) * np.float32(ws) for ws in w_scales], [0] * oc, 0)),
        tensor(b"out", [n, oh, ow, oc], s.TensorType.INT8, 4, qparams([out_scale], [out_zp])),
    ]
    fused = {"none": s.ActivationFunctionType.NONE, "relu": s.ActivationFunctionType.RELU,
             "relu6": s.ActivationFunctionType.RELU6}[act]
    if kind == "conv":
        o = s.Conv2DOptionsT(); otype = s.BuiltinOptions.Conv2DOptions
    else:
        o = s.DepthwiseConv2DOptionsT(); otype = s.BuiltinOptions.DepthwiseConv2DOptions
        o.depthMultiplier = 1
    o.padding = s.Padding.SAME; o.strideW = stride; o.strideH = stride
    o.fusedActivationFunction = fused; o.dilationWFactor = 1; o.dilationHFactor = 1
    op = s.OperatorT(); op.opcodeIndex = 0; op.inputs = [0, 1, 2]; op.outputs = [3]
    op.builtinOptionsType = otype; op.builtinOptions = o
    sg = s.SubGraphT(); sg.tensors = tensors; sg.inputs = [0]; sg.outputs = [3]; sg.operators = [op]
    model.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    interp = Interpreter(model_content=bytes(b.Output()),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])

cases = []
count = int(sys.argv[1])
for i in range(count):
    kind = "conv" if rng.random() < 0.4 else "dw"
    stride = int(rng.choice([1, 2]))
    dk = int(rng.choice([1, 3, 3, 5]))
    n = int(rng.integers(1, 3)); h = int(rng.integers(1, 10)); wd = int(rng.integers(1, 10))
    m = int(rng.integers(1, 7)); oc = int(rng.integers(1, 7)) if kind == "conv" else m
    act = str(rng.choice(["none", "relu", "relu6"]))
    in_zp = int(rng.integers(-128, 128)); out_zp = int(rng.integers(-128, 128))
    wshape = (oc, dk, dk, m) if kind == "conv" else (1, dk, dk, m)
    tie = rng.random() < 0.4
    big = (not tie) and rng.random() < 0.4
    if big:
        # Effective multiplier > 1: positive shifts (the left-shift branch of MBQM).
        in_scale = np.float32(rng.uniform(0.05, 0.1))
        w_scales = rng.uniform(0.01, 0.05, size=oc).astype(np.float32)
        out_scale = np.float32(rng.uniform(1e-5, 5e-4) if rng.random() < 0.5 else rng.uniform(5e-11, 5e-9))
        x = np.clip(in_zp + rng.integers(-20, 21, size=(n, h, wd, m)), -128, 127).astype(np.int8)
        w = rng.integers(-20, 21, size=wshape).astype(np.int8)
        bias = rng.integers(-300, 301, size=oc).astype(np.int32)
        if act == "relu6" and out_scale < 1e-6:
            act = "relu"  # TFLite refuses a ReLU6 bound beyond int32
    elif tie:
        # Effective multiplier exactly 2^-k: M0 = 2^30, ties in SRDHM whenever acc is odd.
        k = int(rng.integers(1, 4))
        in_scale = np.float32(1.0); w_scales = np.ones(oc, dtype=np.float32)
        out_scale = np.float32(2.0 ** k)
        x = np.clip(in_zp + rng.integers(-3, 4, size=(n, h, wd, m)), -128, 127).astype(np.int8)
        w = rng.integers(-3, 4, size=wshape).astype(np.int8)
        bias = rng.integers(-20, 21, size=oc).astype(np.int32)
        if act == "relu6":
            act = "relu"  # 6 / 2^k would clamp almost everything
    else:
        in_scale = np.float32(rng.uniform(0.005, 0.1))
        w_scales = rng.uniform(0.0005, 0.05, size=oc).astype(np.float32)
        out_scale = np.float32(rng.uniform(0.01, 0.6))
        x = rng.integers(-128, 128, size=(n, h, wd, m)).astype(np.int8)
        lo = -128 if rng.random() < 0.3 else -127
        w = rng.integers(lo, 128, size=wshape).astype(np.int8)
        bias = rng.integers(-30000, 30001, size=oc).astype(np.int32)
    out = run_case(kind, stride, act, x, w, bias, in_scale, in_zp, w_scales, out_scale, out_zp)
    cases.append(dict(kind=kind, stride=stride, act=act, x_shape=list(x.shape), x=x.flatten().tolist(),
                      w_shape=list(w.shape), w=w.flatten().tolist(), bias=bias.tolist(),
                      in_scale=f32bits([in_scale])[0], in_zp=in_zp, w_scales=f32bits(w_scales),
                      out_scale=f32bits([out_scale])[0], out_zp=out_zp,
                      out_shape=list(out.shape), out=out.flatten().tolist(), tie=bool(tie)))
json.dump(cases, sys.stdout)
