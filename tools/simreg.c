// simreg: one binary, one subcommand per file (cmd_<name>.c).
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int sr_cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("simreg %s\n", SR_VERSION_STRING);
  return 0;
}

typedef struct {
  const char *name;
  sr_cmd_fn fn;
  const char *summary;
} sr_cmd;

static const sr_cmd COMMANDS[] = {
    {"train", sr_cmd_train, "train a model (the paper's recipe by default)"},
    {"eval", sr_cmd_eval, "evaluate a trained run: accuracy, per-class accuracy, confusion matrix"},
    {"similarity", sr_cmd_similarity, "build or check a regularization target (N x N .npy) and histogram it"},
    {"rsa", sr_cmd_rsa,
     "representational similarity analysis: targets, files and run layers compared (rsa.json, figures)"},
    {"attack", sr_cmd_attack,
     "robustness: noise sweeps, FGSM/PGD (white-box, transferred), Boundary, HopSkipJump, Square -> "
     "RUN/robustness.json"},
    {"robustness", sr_cmd_robustness,
     "the paper's robustness protocol over several runs into one results file"},
    {"import", sr_cmd_import,
     "import an ONNX model (torch.onnx.export) as a run directory every command accepts"},
    {"export", sr_cmd_export, "write an imported run (fine-tuned or not) back to ONNX"},
    {"info", sr_cmd_info, "show a model's layers, parameter count and FLOPs per image"},
    {"version", sr_cmd_version, "print the version"},
    {"corrupt", sr_cmd_corrupt, "CIFAR-10-C corruptions of a dataset (15 x 5 severities), frequency groups"},
    {"spectrum", sr_cmd_spectrum,
     "power spectrum of a set of perturbations (.npy): radial profile, HF share"},
    {"fourier-map", sr_cmd_fourier_map,
     "Fourier sensitivity map of a run: error rate under each Fourier basis perturbation"},
    {"select", sr_cmd_select,
     "the paper's selection rule: keep runs with >= 0.9x clean accuracy, rank by robustness"},
    {"report", sr_cmd_report, "compare runs: HTML page, report.md, report.json and figures"},
};

static void usage(FILE *out) {
  fprintf(out,
          "simreg %s - similarity-regularized CNNs and their robustness\n\nusage: simreg COMMAND "
          "[options]\n\ncommands:\n",
          SR_VERSION_STRING);
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(out, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  fprintf(out, "\nsimreg COMMAND --help shows each command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return SR_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("simreg %s\n", SR_VERSION_STRING);
    return 0;
  }
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].fn(argc, argv);
  fprintf(stderr, "simreg: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return SR_EXIT_USAGE;
}
