package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/msgmock/msgmock/mock/importer"
	"github.com/msgmock/msgmock/mock/record/capture"
)

// importCmd is `msgmock import har …` and `msgmock import curl …`.
func importCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(stderr, "import needs what to import: har or curl", "msgmock import --help")
	}
	switch args[0] {
	case "har":
		return importHAR(args[1:], stdout, stderr)
	case "curl":
		return importCurl(args[1:], stdin, stdout, stderr)
	}
	return usageError(stderr, fmt.Sprintf("import %q: msgmock imports a har or a curl command", args[0]), "msgmock import --help")
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, up to a "--" (whose followers it returns apart).
func parseInterspersed(fl *flag.FlagSet, args []string) (positional, afterDashes []string, err error) {
	for i, a := range args {
		if a == "--" {
			args, afterDashes = args[:i], append([]string{}, args[i+1:]...)
			if afterDashes == nil {
				afterDashes = []string{}
			}
			break
		}
	}
	rest := args
	for {
		if err := fl.Parse(rest); err != nil {
			return nil, nil, err
		}
		if fl.NArg() == 0 {
			return positional, afterDashes, nil
		}
		positional = append(positional, fl.Arg(0))
		rest = fl.Args()[1:]
	}
}

// importHAR is `msgmock import har FILE.har --out DIR [--scenario NAME] [--force]`.
func importHAR(args []string, stdout, stderr io.Writer) error {
	usage := "msgmock import --help"
	fl := flag.NewFlagSet("import har", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	out := fl.String("out", "", "directory to write the fixtures and the scenario into")
	name := fl.String("scenario", "", "scenario name (default: the HAR file's name)")
	force := fl.Bool("force", false, "replace files of the same names in DIR")
	jsonOut := fl.Bool("json", false, "print the summary as JSON")
	positional, extra, err := parseInterspersed(fl, args)
	if err != nil {
		return usageError(stderr, err.Error(), usage)
	}
	if len(positional) != 1 || extra != nil {
		return usageError(stderr, "import har takes one HAR file", usage)
	}
	if *out == "" {
		return usageError(stderr, "import har needs --out DIR", usage)
	}
	file := positional[0]
	data, err := readHAR(file)
	if err != nil {
		fmt.Fprintf(stderr, "msgmock import har: %s: %v\n", file, err)
		return exitCode(2)
	}
	res, err := importer.HAR(data, importer.Options{Source: file, Scenario: *name})
	switch {
	case errors.Is(err, importer.ErrNothingToImport):
		printHARSummary(stdout, res.Summary, *jsonOut)
		fmt.Fprintf(stderr, "msgmock import har: %s: %v; nothing written\n", file, err)
		return exitCode(1)
	case err != nil:
		fmt.Fprintf(stderr, "msgmock import har: %s: %v\n", file, err)
		return exitCode(2)
	}
	written, err := importer.Write(*out, res.Files, *force)
	if err != nil {
		fmt.Fprintf(stderr, "msgmock import har: %v; nothing written\n", err)
		return exitCode(2)
	}
	printHARSummary(stdout, res.Summary, *jsonOut)
	if *jsonOut {
		return nil
	}
	sum := res.Summary
	fmt.Fprintf(stdout, "wrote %s (%d %s, %d %s)\n", written[0], sum.Conversations, pluralWord(sum.Conversations, "conversation"),
		sum.Messages, pluralWord(sum.Messages, "message"))
	fmt.Fprintf(stdout, "wrote %s (scenario %s, %d %s)\n", written[1], res.Scenario, sum.Rules, pluralWord(sum.Rules, "rule"))
	fmt.Fprintf(stdout, "replay it: msgmock --fixtures %s --scenario %s\n", *out, res.Scenario)
	return nil
}

// readHAR reads a HAR file, refusing one too large before reading it.
func readHAR(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // the file is named already
		}
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > importer.MaxHARSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d a HAR may have here", importer.ErrNotHAR, info.Size(), importer.MaxHARSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, importer.MaxHARSize+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}

func printHARSummary(w io.Writer, sum importer.Summary, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
		return
	}
	from := sum.Source
	if sum.Creator != "" {
		from += " (" + sum.Creator + ")"
	}
	fmt.Fprintf(w, "read %d %s of %s\n", sum.Entries, pluralWord(sum.Entries, "entry"), from)
	list := func(title string, notes []importer.EntryNote) {
		fmt.Fprintf(w, "%s %d:\n", title, len(notes))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, n := range notes {
			status := "-"
			if n.Status > 0 {
				status = fmt.Sprint(n.Status)
			}
			fmt.Fprintf(tw, "  #%d\t%s\t%s\t%s\t%s\n", n.Index, n.Method, n.URL, status, n.Note)
		}
		tw.Flush()
	}
	list("used", sum.Used)
	list("skipped", sum.Skipped)
	for _, warn := range sum.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// pluralWord is word, or its plural when n is not 1.
func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "y") {
		return strings.TrimSuffix(word, "y") + "ies"
	}
	return word + "s"
}

// headerList is a repeatable --header 'Name: value' flag.
type headerList []capture.Header

func (h *headerList) String() string { return fmt.Sprint(*h) }
func (h *headerList) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	*h = append(*h, capture.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	return nil
}

// importCurl is `msgmock import curl [--out DIR] [--scenario NAME]
// [--status N] [--body JSON] [--header 'K: V'] [--latency D] [--times N]
// [--fault F] -- 'curl …'` (or the command's words after --, or the
// command on stdin).
func importCurl(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	usage := "msgmock import --help"
	fl := flag.NewFlagSet("import curl", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	out := fl.String("out", "fixtures", "fixtures directory holding the scenario")
	name := fl.String("scenario", "curl", "scenario the rule is added to")
	var a importer.Answer
	var headers headerList
	var body string
	fl.IntVar(&a.Status, "status", 0, "status the rule answers")
	fl.StringVar(&body, "body", "", "JSON body the rule answers (default: the API's own for the status)")
	fl.Var(&headers, "header", "response header 'Name: value' (repeatable)")
	fl.DurationVar(&a.Latency, "latency", 0, "wait before answering")
	fl.IntVar(&a.Times, "times", 0, "answer only the first N matching requests (default: every one)")
	fl.StringVar(&a.Fault, "fault", "", "reset, empty, malformed or timeout instead of an answer")
	positional, afterDashes, err := parseInterspersed(fl, args)
	if err != nil {
		return usageError(stderr, err.Error(), usage)
	}
	a.Headers = headers
	if body != "" {
		a.Body = json.RawMessage(body)
	}
	if a.Times < 0 || a.Latency < 0 || (a.Status != 0 && (a.Status < 200 || a.Status > 599)) {
		return usageError(stderr, "--status is 200–599, --times and --latency not negative", usage)
	}
	var req *importer.CurlRequest
	words := append(positional, afterDashes...)
	switch {
	case len(words) == 0 || (len(words) == 1 && words[0] == "-"):
		text, err := io.ReadAll(io.LimitReader(stdin, 16<<20))
		if err != nil {
			return err
		}
		req, err = importer.ParseCurlCommand(string(text))
		if err != nil {
			return usageError(stderr, "the curl command on stdin: "+err.Error(), usage)
		}
	case len(words) == 1:
		req, err = importer.ParseCurlCommand(words[0])
	default:
		req, err = importer.ParseCurlArgs(words)
	}
	if err != nil {
		return usageError(stderr, "the curl command: "+err.Error(), usage)
	}
	rule, book, err := importer.CurlRule(req, a)
	if err != nil {
		return usageError(stderr, err.Error(), usage)
	}
	file, ruleName, err := importer.AddRule(*out, *name, rule, book)
	if err != nil {
		fmt.Fprintf(stderr, "msgmock import curl: %v\n", err)
		return exitCode(2)
	}
	answer := a.Fault
	if answer == "" {
		answer = fmt.Sprint(rule.Respond.Status)
		if rule.Respond.Status == 0 {
			answer = "the usual status"
		}
		if a.Latency > 0 {
			answer += " after " + capture.Duration(a.Latency)
		}
	}
	fmt.Fprintf(stdout, "read 1 curl command: %s %s\n", req.Method, req.URL.Path)
	fmt.Fprintf(stdout, "added rule %s (answers %s) to scenario %s in %s\n", ruleName, answer, *name, file)
	fmt.Fprintf(stdout, "replay it: msgmock --fixtures %s --scenario %s\n", *out, *name)
	return nil
}
