// Command gnarkbench runs gnark's PLONK (BN254, KZG) on the statements of
// benches/gnark_compare.py and prints one JSON line per run. It is a
// benchmark-only comparator: bigfile_zk never depends on it. See README.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark"
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	crypto_poseidon2 "github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
	"github.com/consensys/gnark/backend/plonk"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/scs"
	"github.com/consensys/gnark/logger"
	"github.com/consensys/gnark/std/permutation/poseidon2"
	"github.com/consensys/gnark/test/unsafekzg"
)

// chainConstant is the c of x <- x*x + c (the same constant as the Python side).
const chainConstant = 7

// SquareChain proves Out = f^Steps(X) with f(x) = x*x + c. With PlonkGate
// (the default) each step is one SparseR1CS constraint, qM*x*x + qC - o = 0,
// through frontend.PlonkAPI; the generic api.Add(api.Mul(x, x), c) costs two
// in gnark v0.16 (the multiplication's output wire, then the addition).
type SquareChain struct {
	X         frontend.Variable
	Out       frontend.Variable `gnark:",public"`
	Steps     int               `gnark:"-"`
	PlonkGate bool              `gnark:"-"`
}

func (c *SquareChain) Define(api frontend.API) error {
	x := c.X
	plonkAPI, ok := api.(frontend.PlonkAPI)
	if c.PlonkGate && !ok {
		return fmt.Errorf("the builder has no PlonkAPI")
	}
	for i := 0; i < c.Steps; i++ {
		if c.PlonkGate {
			x = plonkAPI.EvaluatePlonkExpression(x, x, 0, 0, 1, chainConstant)
		} else {
			x = api.Add(api.Mul(x, x), chainConstant)
		}
	}
	api.AssertIsEqual(x, c.Out)
	return nil
}

// HashChain proves Out after Steps rounds of (x, y) <- (y, H(x, y)), H being
// gnark's Poseidon2 2-to-1 compression (width 2, feed-forward of the right
// input: std/permutation/poseidon2 Compress).
type HashChain struct {
	X, Y  frontend.Variable
	Out   frontend.Variable `gnark:",public"`
	Steps int               `gnark:"-"`
}

func (c *HashChain) Define(api frontend.API) error {
	h, err := poseidon2.NewPoseidon2(api)
	if err != nil {
		return err
	}
	x, y := c.X, c.Y
	for i := 0; i < c.Steps; i++ {
		x, y = y, h.Compress(x, y)
	}
	api.AssertIsEqual(y, c.Out)
	return nil
}

// statement returns the circuit shape and a satisfying assignment, its output
// computed natively (gnark-crypto's fr and Poseidon2).
func statement(name string, steps int, plonkGate bool) (frontend.Circuit, frontend.Circuit, error) {
	switch name {
	case "chain":
		var x, c fr.Element
		x.SetUint64(3)
		c.SetUint64(chainConstant)
		start := x
		for i := 0; i < steps; i++ {
			x.Mul(&x, &x).Add(&x, &c)
		}
		return &SquareChain{Steps: steps, PlonkGate: plonkGate},
			&SquareChain{X: start, Out: x, Steps: steps, PlonkGate: plonkGate}, nil
	case "hash":
		perm := crypto_poseidon2.NewDefaultPermutation()
		var x, y fr.Element
		x.SetUint64(1)
		y.SetUint64(2)
		x0, y0 := x, y
		for i := 0; i < steps; i++ {
			state := [2]fr.Element{x, y}
			if err := perm.Permutation(state[:]); err != nil {
				return nil, nil, err
			}
			state[1].Add(&state[1], &y)
			x, y = y, state[1]
		}
		return &HashChain{Steps: steps},
			&HashChain{X: x0, Y: y0, Out: y, Steps: steps}, nil
	}
	return nil, nil, fmt.Errorf("unknown statement %q (chain or hash)", name)
}

// peakRSS is VmHWM of /proc/self/status in bytes (0 where there is none).
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) >= 2 && fields[0] == "VmHWM:" {
			kib, _ := strconv.ParseInt(fields[1], 10, 64)
			return kib * 1024
		}
	}
	return 0
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				return dep.Version + " => " + dep.Replace.Path
			}
			return dep.Version
		}
	}
	return ""
}

func gadget(name string, plonkGate bool) string {
	switch {
	case name == "hash":
		return "std/permutation/poseidon2 Compress (width 2)"
	case plonkGate:
		return "frontend.PlonkAPI EvaluatePlonkExpression"
	}
	return "api.Add(api.Mul(x, x), c)"
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

func run(name string, steps int, plonkGate bool) (map[string]any, error) {
	shape, assignment, err := statement(name, steps, plonkGate)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), scs.NewBuilder, shape)
	if err != nil {
		return nil, err
	}
	compileS := since(start)
	size := uint64(ccs.GetNbConstraints() + ccs.GetNbPublicVariables())
	domain := ecc.NextPowerOfTwo(size)

	// Insecure test SRS: tau is sampled in this process (unsafekzg), fine for timing only.
	start = time.Now()
	canonical, lagrange, err := unsafekzg.NewSRS(ccs)
	if err != nil {
		return nil, err
	}
	srsS := since(start)
	start = time.Now()
	pk, vk, err := plonk.Setup(ccs, canonical, lagrange)
	if err != nil {
		return nil, err
	}
	setupS := since(start)

	start = time.Now()
	full, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	proof, err := plonk.Prove(ccs, pk, full)
	if err != nil {
		return nil, err
	}
	proveS := since(start)

	var encoded bytes.Buffer
	if _, err := proof.WriteTo(&encoded); err != nil {
		return nil, err
	}

	public, err := full.Public()
	if err != nil {
		return nil, err
	}
	start = time.Now()
	if err := plonk.Verify(proof, vk, public); err != nil {
		return nil, fmt.Errorf("the proof does not verify: %w", err)
	}
	verifyS := since(start)

	return map[string]any{
		"statement":      name,
		"steps":          steps,
		"gadget":         gadget(name, plonkGate),
		"constraints":    ccs.GetNbConstraints(),
		"public":         ccs.GetNbPublicVariables(),
		"domain":         domain,
		"compile_s":      compileS,
		"srs_s":          srsS,
		"setup_s":        setupS,
		"prove_s":        proveS,
		"verify_s":       verifyS,
		"proof_bytes":    encoded.Len(),
		"peak_rss_bytes": peakRSS(),
		"gomaxprocs":     runtime.GOMAXPROCS(0),
		"gnark":          gnark.Version.String(),
		"gnark_module":   moduleVersion("github.com/consensys/gnark"),
		"gnark_crypto":   moduleVersion("github.com/consensys/gnark-crypto"),
		"go":             runtime.Version(),
	}, nil
}

func main() {
	name := flag.String("statement", "chain", "chain (x <- x*x + c) or hash (Poseidon2 2-to-1 chain)")
	steps := flag.Int("steps", 65400, "chain steps or hashes")
	rounds := flag.Int("rounds", 1, "runs in this process (each compiles, sets up, proves, verifies)")
	generic := flag.Bool("generic", false, "chain: api.Add(api.Mul(x, x), c) instead of the one-constraint PlonkAPI gate")
	procs := flag.Int("procs", runtime.NumCPU(), "GOMAXPROCS")
	flag.Parse()
	if *steps < 1 || *rounds < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "gnarkbench: -steps, -rounds and -procs must be positive")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	logger.Disable()
	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *rounds; i++ {
		result, err := run(*name, *steps, !*generic)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gnarkbench:", err)
			os.Exit(1)
		}
		if err := out.Encode(result); err != nil {
			fmt.Fprintln(os.Stderr, "gnarkbench:", err)
			os.Exit(1)
		}
	}
}
