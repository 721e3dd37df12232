//! The integer program of `docs/spec/quantization.md` (§4–5): its JSON form, decoded strictly,
//! and its forward pass over `i64`, which the layout follows value for value. The numpy
//! oracle (`bigfile_zk.reference.compute`) is the specification; `tests/test_compute_circuit.py`
//! holds the two to the same outputs on the spec vectors and on random models.

use bigfile_zk::error::{Error, Result};
use serde_json::Value;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    U8,
    I8,
}

impl Dtype {
    pub fn range(self) -> (i64, i64) {
        match self {
            Dtype::U8 => (0, 255),
            Dtype::I8 => (-128, 127),
        }
    }
}

/// One rescale (§3.1): `clamp(((acc·M + 2^(s−1)) >> s) + z_y, lo, hi)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requant {
    pub multiplier: i64,
    pub shift: u32,
    pub zero_point: i64,
    pub clamp: (i64, i64),
}

impl Requant {
    /// The oracle's requantization of `acc` (with `acc·M` already formed: `product`).
    pub fn apply(&self, product: i128) -> i64 {
        let v = product + (1i128 << (self.shift - 1));
        let q = v >> self.shift;
        (q as i64 + self.zero_point).clamp(self.clamp.0, self.clamp.1)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `weight [O][I]` (row-major), per-channel requantization.
    Dense {
        weight: Vec<i64>,
        out: usize,
        bias: Vec<i64>,
        input_zero_point: i64,
        requant: Vec<Requant>,
    },
    /// `weight [O][C][kh][kw]` (row-major).
    Conv2d {
        weight: Vec<i64>,
        dims: [usize; 4],
        bias: Vec<i64>,
        stride: [usize; 2],
        padding: [usize; 4],
        input_zero_point: i64,
        requant: Vec<Requant>,
    },
    AvgPool {
        kernel: [usize; 2],
        stride: [usize; 2],
        input_zero_point: i64,
        requant: Requant,
    },
    GlobalAvgPool {
        input_zero_point: i64,
        requant: Requant,
    },
    MaxPool {
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    Add {
        zero_points: [i64; 2],
        multipliers: [i64; 2],
        requant: Requant,
    },
    Clamp {
        clamp: (i64, i64),
    },
    Reshape,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// Tensor indices: 0 is the input, `i + 1` the output of node `i`.
    pub inputs: Vec<usize>,
    pub op: Op,
    pub shape: Vec<usize>,
    pub dtype: Dtype,
}

#[derive(Clone, Debug)]
pub struct Program {
    pub input_shape: Vec<usize>,
    pub input_dtype: Dtype,
    /// The declared input range (inside the dtype's).
    pub input_range: (i64, i64),
    pub nodes: Vec<Node>,
}

fn bad(path: &str, reason: impl std::fmt::Display) -> Error {
    Error::Decode {
        what: "quantized model",
        reason: format!("{path}: {reason}"),
    }
}

fn int(v: &Value, path: &str) -> Result<i64> {
    // Booleans and floats are not integers here (the spec's strict decoding).
    match v {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().expect("checked")),
        _ => Err(bad(path, "not an integer")),
    }
}

fn ints(v: &Value, path: &str) -> Result<Vec<i64>> {
    v.as_array()
        .ok_or_else(|| bad(path, "not a list"))?
        .iter()
        .enumerate()
        .map(|(i, x)| int(x, &format!("{path}[{i}]")))
        .collect()
}

fn size(v: &Value, path: &str, min: i64) -> Result<usize> {
    let x = int(v, path)?;
    if x < min || x > 1 << 24 {
        return Err(bad(path, format!("{x} outside {min}..=2^24")));
    }
    Ok(x as usize)
}

fn pair(v: &Value, path: &str, min: i64) -> Result<[usize; 2]> {
    let xs = v
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| bad(path, "not a pair"))?;
    Ok([
        size(&xs[0], &format!("{path}[0]"), min)?,
        size(&xs[1], &format!("{path}[1]"), min)?,
    ])
}

/// Flatten nested lists of integers, checking the shape.
fn tensor(v: &Value, shape: &[usize], path: &str) -> Result<Vec<i64>> {
    match shape.split_first() {
        None => Ok(vec![int(v, path)?]),
        Some((&n, rest)) => {
            let xs = v
                .as_array()
                .filter(|a| a.len() == n)
                .ok_or_else(|| bad(path, format!("not a list of {n}")))?;
            let mut out = Vec::new();
            for (i, x) in xs.iter().enumerate() {
                out.extend(tensor(x, rest, &format!("{path}[{i}]"))?);
            }
            Ok(out)
        }
    }
}

fn dims_of(v: &Value) -> Vec<usize> {
    let mut dims = Vec::new();
    let mut cur = v;
    while let Some(a) = cur.as_array() {
        dims.push(a.len());
        match a.first() {
            Some(x) => cur = x,
            None => break,
        }
    }
    dims
}

/// A pool's `kernel`, `stride` and output shape `[C, H', W']` (no padding).
fn window(
    p: &Value,
    x_shape: &[usize],
    path: &str,
) -> Result<([usize; 2], [usize; 2], Vec<usize>)> {
    let [c, h, w] = x_shape[..] else {
        return Err(bad(path, "input is not [C, H, W]"));
    };
    let kernel = pair(&p["kernel"], &format!("{path}.kernel"), 1)?;
    let stride = pair(&p["stride"], &format!("{path}.stride"), 1)?;
    if h < kernel[0] || w < kernel[1] {
        return Err(bad(path, "the window is larger than the input"));
    }
    let out = vec![
        c,
        (h - kernel[0]) / stride[0] + 1,
        (w - kernel[1]) / stride[1] + 1,
    ];
    Ok((kernel, stride, out))
}

fn requant(
    p: &Value,
    path: &str,
    channel: Option<usize>,
    zero_point: i64,
    dtype: Dtype,
) -> Result<Requant> {
    let pick = |key: &str| -> Result<i64> {
        match channel {
            Some(c) => {
                let xs = ints(&p[key], &format!("{path}.{key}"))?;
                xs.get(c)
                    .copied()
                    .ok_or_else(|| bad(path, format!("{key} has no channel {c}")))
            }
            None => int(&p[key], &format!("{path}.{key}")),
        }
    };
    let multiplier = pick("multiplier")?;
    let shift = pick("shift")?;
    if !(1..1 << 31).contains(&multiplier) {
        return Err(bad(
            path,
            format!("multiplier {multiplier} outside 1..2^31"),
        ));
    }
    if !(1..=62).contains(&shift) {
        return Err(bad(path, format!("shift {shift} outside 1..=62")));
    }
    let c = ints(&p["clamp"], &format!("{path}.clamp"))?;
    let (lo, hi) = match c[..] {
        [lo, hi] if lo <= hi && lo >= dtype.range().0 && hi <= dtype.range().1 => (lo, hi),
        _ => return Err(bad(path, "clamp is not [lo, hi] inside the output dtype")),
    };
    let z = int(
        &p["output_zero_point"],
        &format!("{path}.output_zero_point"),
    )?;
    if z != zero_point {
        return Err(bad(
            path,
            "output_zero_point differs from the output's zero point",
        ));
    }
    Ok(Requant {
        multiplier,
        shift: shift as u32,
        zero_point: z,
        clamp: (lo, hi),
    })
}

fn dtype(v: &Value, path: &str) -> Result<Dtype> {
    match v.as_str() {
        Some("uint8") => Ok(Dtype::U8),
        Some("int8") => Ok(Dtype::I8),
        _ => Err(bad(path, "dtype is not uint8 or int8")),
    }
}

impl Program {
    /// Decode `QuantizedModel.to_dict()` JSON (§5). The Python decoder is the strict one (it
    /// checks every rule of the page); this one re-checks what the layout relies on, so that a
    /// malformed program is an error here too, never a panic or a wrong circuit.
    pub fn from_json(v: &Value) -> Result<Program> {
        if v["format"] != "bigfile_zk.QuantizedModel" || v["version"] != 1 {
            return Err(bad("$", "not a version-1 bigfile_zk.QuantizedModel"));
        }
        let input = &v["input"];
        let input_shape: Vec<usize> = ints(&input["shape"], "input.shape")?
            .iter()
            .map(|&d| {
                if (1..=1 << 24).contains(&d) {
                    Ok(d as usize)
                } else {
                    Err(bad("input.shape", "a dimension outside 1..=2^24"))
                }
            })
            .collect::<Result<_>>()?;
        let input_dtype = dtype(&input["dtype"], "input.dtype")?;
        let input_zp = int(&input["zero_point"], "input.zero_point")?;
        let r = ints(&input["range"], "input.range")?;
        let input_range = match r[..] {
            [lo, hi] if lo <= hi && lo >= input_dtype.range().0 && hi <= input_dtype.range().1 => {
                (lo, hi)
            }
            _ => return Err(bad("input.range", "not [lo, hi] inside the dtype")),
        };
        let input_name = input["name"].as_str().unwrap_or("input").to_string();
        let mut names = vec![input_name];
        let mut shapes = vec![input_shape.clone()];
        let mut zps = vec![input_zp];
        let mut dtypes = vec![input_dtype];
        let mut nodes = Vec::new();
        let raw = v["nodes"]
            .as_array()
            .ok_or_else(|| bad("nodes", "not a list"))?;
        if raw.is_empty() {
            return Err(bad("nodes", "a program has at least one node"));
        }
        for (ni, n) in raw.iter().enumerate() {
            let path = format!("nodes[{ni}]");
            let name = n["name"]
                .as_str()
                .ok_or_else(|| bad(&path, "no name"))?
                .to_string();
            let inputs: Vec<usize> = n["inputs"]
                .as_array()
                .ok_or_else(|| bad(&path, "inputs is not a list"))?
                .iter()
                .map(|x| {
                    let s = x.as_str().unwrap_or("");
                    names
                        .iter()
                        .position(|m| m == s)
                        .ok_or_else(|| bad(&path, format!("unknown input {x}")))
                })
                .collect::<Result<_>>()?;
            let out = &n["output"];
            let shape: Vec<usize> = ints(&out["shape"], &format!("{path}.output.shape"))?
                .iter()
                .map(|&d| {
                    if (1..=1 << 24).contains(&d) {
                        Ok(d as usize)
                    } else {
                        Err(bad(&path, "an output dimension outside 1..=2^24"))
                    }
                })
                .collect::<Result<_>>()?;
            let odt = dtype(&out["dtype"], &format!("{path}.output.dtype"))?;
            let ozp = int(&out["zero_point"], &format!("{path}.output.zero_point"))?;
            let p = &n["params"];
            let x_shape = shapes[*inputs.first().ok_or_else(|| bad(&path, "no input"))?].clone();
            let need = |k: usize| -> Result<()> {
                if inputs.len() == k {
                    Ok(())
                } else {
                    Err(bad(&path, format!("{k} input(s) expected")))
                }
            };
            let zx_check = |z: i64| -> Result<()> {
                if z == zps[inputs[0]] {
                    Ok(())
                } else {
                    Err(bad(&path, "input_zero_point differs from the input's"))
                }
            };
            let (op, computed): (Op, Vec<usize>) = match n["op"].as_str() {
                Some("dense") => {
                    need(1)?;
                    let dims = dims_of(&p["weight"]);
                    let [o, i] = dims[..] else {
                        return Err(bad(&path, "weight is not [O][I]"));
                    };
                    if x_shape != [i] {
                        return Err(bad(&path, format!("input shape {x_shape:?} is not [{i}]")));
                    }
                    let weight = tensor(&p["weight"], &[o, i], &format!("{path}.weight"))?;
                    let bias = tensor(&p["bias"], &[o], &format!("{path}.bias"))?;
                    let zx = int(&p["input_zero_point"], &format!("{path}.input_zero_point"))?;
                    zx_check(zx)?;
                    let rq = (0..o)
                        .map(|c| requant(p, &path, Some(c), ozp, odt))
                        .collect::<Result<_>>()?;
                    (
                        Op::Dense {
                            weight,
                            out: o,
                            bias,
                            input_zero_point: zx,
                            requant: rq,
                        },
                        vec![o],
                    )
                }
                Some("conv2d") => {
                    need(1)?;
                    let dims = dims_of(&p["weight"]);
                    let [o, c, kh, kw] = dims[..] else {
                        return Err(bad(&path, "weight is not [O][C][kh][kw]"));
                    };
                    let [xc, h, w] = x_shape[..] else {
                        return Err(bad(&path, "input is not [C, H, W]"));
                    };
                    if xc != c {
                        return Err(bad(&path, "weight channels differ from the input's"));
                    }
                    let weight = tensor(&p["weight"], &[o, c, kh, kw], &format!("{path}.weight"))?;
                    let bias = tensor(&p["bias"], &[o], &format!("{path}.bias"))?;
                    let stride = pair(&p["stride"], &format!("{path}.stride"), 1)?;
                    let pad = ints(&p["padding"], &format!("{path}.padding"))?;
                    let padding: [usize; 4] = match pad[..] {
                        [a, b, cc, d] if [a, b, cc, d].iter().all(|x| (0..1 << 16).contains(x)) => {
                            [a as usize, b as usize, cc as usize, d as usize]
                        }
                        _ => return Err(bad(&path, "padding is not four sizes")),
                    };
                    let zx = int(&p["input_zero_point"], &format!("{path}.input_zero_point"))?;
                    zx_check(zx)?;
                    let (hp, wp) = (h + padding[0] + padding[2], w + padding[1] + padding[3]);
                    if hp < kh || wp < kw {
                        return Err(bad(&path, "the kernel is larger than the padded input"));
                    }
                    let out = vec![o, (hp - kh) / stride[0] + 1, (wp - kw) / stride[1] + 1];
                    let rq = (0..o)
                        .map(|ch| requant(p, &path, Some(ch), ozp, odt))
                        .collect::<Result<_>>()?;
                    (
                        Op::Conv2d {
                            weight,
                            dims: [o, c, kh, kw],
                            bias,
                            stride,
                            padding,
                            input_zero_point: zx,
                            requant: rq,
                        },
                        out,
                    )
                }
                Some("avg_pool") => {
                    need(1)?;
                    let (kernel, stride, out) = window(p, &x_shape, &path)?;
                    let zx = int(&p["input_zero_point"], &format!("{path}.input_zero_point"))?;
                    zx_check(zx)?;
                    (
                        Op::AvgPool {
                            kernel,
                            stride,
                            input_zero_point: zx,
                            requant: requant(p, &path, None, ozp, odt)?,
                        },
                        out,
                    )
                }
                Some("global_avg_pool") => {
                    need(1)?;
                    let [c, _, _] = x_shape[..] else {
                        return Err(bad(&path, "input is not [C, H, W]"));
                    };
                    let zx = int(&p["input_zero_point"], &format!("{path}.input_zero_point"))?;
                    zx_check(zx)?;
                    (
                        Op::GlobalAvgPool {
                            input_zero_point: zx,
                            requant: requant(p, &path, None, ozp, odt)?,
                        },
                        vec![c, 1, 1],
                    )
                }
                Some("max_pool") => {
                    need(1)?;
                    let (kernel, stride, out) = window(p, &x_shape, &path)?;
                    if ozp != zps[inputs[0]] || odt != dtypes[inputs[0]] {
                        return Err(bad(&path, "max_pool keeps its input's quantization"));
                    }
                    (Op::MaxPool { kernel, stride }, out)
                }
                Some("add") => {
                    need(2)?;
                    if shapes[inputs[1]] != x_shape {
                        return Err(bad(&path, "add's inputs differ in shape"));
                    }
                    let z = ints(
                        &p["input_zero_points"],
                        &format!("{path}.input_zero_points"),
                    )?;
                    let m = ints(&p["multipliers"], &format!("{path}.multipliers"))?;
                    let (&[z1, z2], &[m1, m2]) = (&z[..], &m[..]) else {
                        return Err(bad(&path, "two zero points and two multipliers"));
                    };
                    if z1 != zps[inputs[0]] || z2 != zps[inputs[1]] {
                        return Err(bad(&path, "input_zero_points differ from the inputs'"));
                    }
                    if !(1..1 << 31).contains(&m1) || !(1..1 << 31).contains(&m2) {
                        return Err(bad(&path, "a multiplier outside 1..2^31"));
                    }
                    let mut rq = p.clone();
                    rq["multiplier"] = Value::from(1);
                    let requant = requant(&rq, &path, None, ozp, odt)?;
                    (
                        Op::Add {
                            zero_points: [z1, z2],
                            multipliers: [m1, m2],
                            requant,
                        },
                        x_shape.clone(),
                    )
                }
                Some("clamp") => {
                    need(1)?;
                    let c = ints(&p["clamp"], &format!("{path}.clamp"))?;
                    let (lo, hi) = match c[..] {
                        [lo, hi] if lo <= hi && lo >= odt.range().0 && hi <= odt.range().1 => {
                            (lo, hi)
                        }
                        _ => return Err(bad(&path, "clamp is not [lo, hi] inside the dtype")),
                    };
                    if ozp != zps[inputs[0]] || odt != dtypes[inputs[0]] {
                        return Err(bad(&path, "clamp keeps its input's quantization"));
                    }
                    (Op::Clamp { clamp: (lo, hi) }, x_shape.clone())
                }
                Some("reshape") => {
                    need(1)?;
                    if shape.iter().product::<usize>() != x_shape.iter().product::<usize>() {
                        return Err(bad(&path, "reshape changes the size"));
                    }
                    (Op::Reshape, shape.clone())
                }
                other => return Err(bad(&path, format!("unknown op {other:?}"))),
            };
            if computed != shape {
                return Err(bad(
                    &path,
                    format!("output shape {shape:?}, computed {computed:?}"),
                ));
            }
            names.push(name.clone());
            shapes.push(shape.clone());
            zps.push(ozp);
            dtypes.push(odt);
            nodes.push(Node {
                name,
                inputs,
                op,
                shape,
                dtype: odt,
            });
        }
        Ok(Program {
            input_shape,
            input_dtype,
            input_range,
            nodes,
        })
    }

    /// The shape of tensor `t` (0: the input).
    pub fn shape(&self, t: usize) -> &[usize] {
        if t == 0 {
            &self.input_shape
        } else {
            &self.nodes[t - 1].shape
        }
    }

    /// Every tensor of the forward pass (index 0: the input), exactly as the oracle computes
    /// them. `x` must hold `prod(input_shape)` values in the declared range.
    pub fn forward(&self, x: &[i64]) -> Result<Vec<Vec<i64>>> {
        let len: usize = self.input_shape.iter().product();
        if x.len() != len {
            return Err(Error::InvalidParameter(format!(
                "the input has {} values, the model takes {len}",
                x.len()
            )));
        }
        let (lo, hi) = self.input_range;
        if let Some(bad) = x.iter().find(|v| !(lo..=hi).contains(*v)) {
            return Err(Error::InvalidParameter(format!(
                "input value {bad} outside the declared range [{lo}, {hi}]"
            )));
        }
        let mut tensors = vec![x.to_vec()];
        for node in &self.nodes {
            let out = forward_node(self, node, &tensors)?;
            tensors.push(out);
        }
        Ok(tensors)
    }
}

/// One output element of a linear node: `(coefficient, input index)` terms, the constant, and
/// its requantization.
pub type Linear = (Vec<(i64, usize)>, i64, Requant);

/// For each output element: the `(coefficient, input index)` terms and the constant of its
/// accumulator `acc = k + Σ c·x` (zero points folded into `k`), and its requantization.
/// Shared by the forward pass and the layout, so both walk the same windows.
pub fn linear_terms(p: &Program, node: &Node) -> Vec<Linear> {
    let x_shape = p.shape(node.inputs[0]);
    match &node.op {
        Op::Dense {
            weight,
            out,
            bias,
            input_zero_point: z,
            requant,
        } => {
            let i = weight.len() / out;
            (0..*out)
                .map(|o| {
                    let row = &weight[o * i..(o + 1) * i];
                    let terms: Vec<(i64, usize)> = row
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| **w != 0)
                        .map(|(j, w)| (*w, j))
                        .collect();
                    let k = bias[o] - z * row.iter().sum::<i64>();
                    (terms, k, requant[o].clone())
                })
                .collect()
        }
        Op::Conv2d {
            weight,
            dims: [o_n, c_n, kh, kw],
            bias,
            stride,
            padding,
            input_zero_point: z,
            requant,
        } => {
            let (h, w) = (x_shape[1] as isize, x_shape[2] as isize);
            let (oh, ow) = (node.shape[1], node.shape[2]);
            let mut out = Vec::with_capacity(o_n * oh * ow);
            for o in 0..*o_n {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut terms = Vec::new();
                        let mut k = bias[o];
                        for c in 0..*c_n {
                            for u in 0..*kh {
                                for v in 0..*kw {
                                    let y = (i * stride[0] + u) as isize - padding[0] as isize;
                                    let x = (j * stride[1] + v) as isize - padding[1] as isize;
                                    if y < 0 || y >= h || x < 0 || x >= w {
                                        continue; // padding: zero in the real domain
                                    }
                                    let wt = weight[((o * c_n + c) * kh + u) * kw + v];
                                    k -= z * wt;
                                    if wt != 0 {
                                        terms.push((
                                            wt,
                                            (c * h as usize + y as usize) * w as usize + x as usize,
                                        ));
                                    }
                                }
                            }
                        }
                        out.push((terms, k, requant[o].clone()));
                    }
                }
            }
            out
        }
        Op::AvgPool {
            kernel,
            stride,
            input_zero_point: z,
            requant,
        } => {
            let (c_n, h, w) = (x_shape[0], x_shape[1], x_shape[2]);
            let (oh, ow) = (node.shape[1], node.shape[2]);
            let mut out = Vec::new();
            for c in 0..c_n {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut terms = Vec::new();
                        for u in 0..kernel[0] {
                            for v in 0..kernel[1] {
                                terms
                                    .push((1, (c * h + i * stride[0] + u) * w + j * stride[1] + v));
                            }
                        }
                        let k = -z * terms.len() as i64;
                        out.push((terms, k, requant.clone()));
                    }
                }
            }
            out
        }
        Op::GlobalAvgPool {
            input_zero_point: z,
            requant,
        } => {
            let (c_n, hw) = (x_shape[0], x_shape[1] * x_shape[2]);
            (0..c_n)
                .map(|c| {
                    let terms: Vec<(i64, usize)> = (0..hw).map(|i| (1, c * hw + i)).collect();
                    (terms, -z * hw as i64, requant.clone())
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// `max` windows of a MaxPool: input indices per output element.
pub fn max_windows(
    x_shape: &[usize],
    out: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Vec<Vec<usize>> {
    let (h, w) = (x_shape[1], x_shape[2]);
    let mut windows = Vec::new();
    for c in 0..out[0] {
        for i in 0..out[1] {
            for j in 0..out[2] {
                let mut idx = Vec::new();
                for u in 0..kernel[0] {
                    for v in 0..kernel[1] {
                        idx.push((c * h + i * stride[0] + u) * w + j * stride[1] + v);
                    }
                }
                windows.push(idx);
            }
        }
    }
    windows
}

fn check_bounds(node: &Node, acc: i128, product: i128, rq: &Requant) -> Result<()> {
    // §3.3; the compiler proves these for every input, so a failure here means the program
    // was not compiled by a checking compiler.
    if acc.abs() >= 1 << 31 || product.abs() + (1i128 << (rq.shift - 1)) >= 1 << 62 {
        return Err(Error::InvalidParameter(format!(
            "node {}: an accumulator leaves the bounds of quantization.md §3.3",
            node.name
        )));
    }
    Ok(())
}

fn forward_node(p: &Program, node: &Node, t: &[Vec<i64>]) -> Result<Vec<i64>> {
    let x = &t[node.inputs[0]];
    Ok(match &node.op {
        Op::Dense { .. } | Op::Conv2d { .. } | Op::AvgPool { .. } | Op::GlobalAvgPool { .. } => {
            let mut out = Vec::new();
            for (terms, k, rq) in linear_terms(p, node) {
                let acc: i128 = k as i128
                    + terms
                        .iter()
                        .map(|(c, i)| *c as i128 * x[*i] as i128)
                        .sum::<i128>();
                let product = acc * rq.multiplier as i128;
                check_bounds(node, acc, product, &rq)?;
                out.push(rq.apply(product));
            }
            out
        }
        Op::MaxPool { kernel, stride } => {
            max_windows(p.shape(node.inputs[0]), &node.shape, *kernel, *stride)
                .iter()
                .map(|w| w.iter().map(|i| x[*i]).max().expect("non-empty window"))
                .collect()
        }
        Op::Add {
            zero_points: [z1, z2],
            multipliers: [m1, m2],
            requant,
        } => {
            let y = &t[node.inputs[1]];
            x.iter()
                .zip(y)
                .map(|(a, b)| {
                    let product = (a - z1) as i128 * *m1 as i128 + (b - z2) as i128 * *m2 as i128;
                    check_bounds(node, 0, product, requant)?;
                    Ok(requant.apply(product))
                })
                .collect::<Result<_>>()?
        }
        Op::Clamp { clamp: (lo, hi) } => x.iter().map(|v| (*v).clamp(*lo, *hi)).collect(),
        Op::Reshape => x.clone(),
    })
}
