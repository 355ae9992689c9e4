"""The ``gpuspike`` command: one function per subcommand, errors as one line on stderr.

Each subcommand is a ``_cmd_<name>(args) -> int`` function and an ``_add_<name>(subparsers)``
function that declares its arguments; :data:`SUBCOMMANDS` lists them in the order ``--help``
shows. A user error (missing path, existing folder, no GPU, bad value) prints one line,
``gpuspike <command>: error: <message>``, and exits with status 1; ``--debug`` shows the
traceback instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

DESCRIPTION = ("GPU-first waveforms, templates and sparsity for extracellular electrophysiology, with the API "
               "of SpikeInterface's core module.")
EPILOG = ("Examples: 'gpuspike demo' (about a minute on a laptop), 'gpuspike info gpuspike_demo_output/recording', "
          "'gpuspike extract-waveforms REC_FOLDER SORTING_FOLDER OUT_FOLDER --sparse'. "
          "Add --debug to any command to see a full traceback on error.")


class UserError(Exception):
    """An error the user can fix (shown as one line, without a traceback)."""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows every option's default, unless its help already says it or it has none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "%(default)" in text or "default" in text.lower() or action.default in (None, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in ("?", "*"):
            text += " (default: %(default)s)"
        return text


def _parser(subparsers, name: str, help: str, aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                                   formatter_class=_HelpFormatter, aliases=list(aliases))
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    return parser


def _add_job_arguments(parser: argparse.ArgumentParser, n_jobs: int) -> None:
    parser.add_argument("--backend", choices=("auto", "numpy", "cuda"), default="auto",
                        help="where the kernels run: 'auto' takes the GPU when one is usable")
    parser.add_argument("--n-jobs", type=int, default=n_jobs, metavar="N",
                        help="workers (threads); -1 uses one per core")
    parser.add_argument("--chunk-duration", default="1s", metavar="DURATION",
                        help="traces read per chunk, e.g. '1s' or '500ms'")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _job_kwargs(args: argparse.Namespace) -> dict:
    return dict(n_jobs=args.n_jobs, chunk_duration=args.chunk_duration, progress_bar=not args.no_progress,
                backend=args.backend)


# ------------------------------------------------------------------------------------------- demo
def _add_demo(subparsers) -> None:
    demo = _parser(subparsers, "demo", "generate a Neuropixels-like recording, extract sparse waveforms and "
                                       "templates, and report speed and accuracy")
    demo.add_argument("--duration", type=float, default=60.0, metavar="SECONDS", help="length of the recording")
    demo.add_argument("--num-units", type=int, default=100, metavar="N", help="ground-truth units")
    demo.add_argument("--num-channels", type=int, default=384, metavar="N", help="channels of the probe")
    demo.add_argument("--max-spikes-per-unit", type=int, default=500, metavar="N",
                      help="waveforms sampled per unit")
    demo.add_argument("--radius-um", type=float, default=40.0, metavar="UM",
                      help="sparsity: channels within this distance of a unit's peak channel")
    demo.add_argument("--seed", type=int, default=0, help="seed of the generator and of the spike sampling")
    demo.add_argument("--output", default="gpuspike_demo_output", metavar="FOLDER",
                      help="folder for the recording, the waveforms and the figure")
    demo.add_argument("--regenerate", action="store_true",
                      help="generate and save the recording again even if the output folder has it")
    demo.add_argument("--no-save", action="store_true",
                      help="extract from the lazily generated traces instead of a saved binary file (no disk used; "
                           "the speed printed is then that of the generator)")
    demo.add_argument("--no-plot", action="store_true", help="do not draw the figure")
    _add_job_arguments(demo, n_jobs=-1)
    demo.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DemoSettings, run_demo

    for name in ("duration", "radius_um"):
        if getattr(args, name) <= 0:
            raise UserError(f"--{name.replace('_', '-')}={getattr(args, name)}: give a number > 0")
    for name in ("num_units", "num_channels", "max_spikes_per_unit"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')}={getattr(args, name)}: give an integer >= 1")
    settings = DemoSettings(duration=args.duration, num_units=args.num_units, num_channels=args.num_channels,
                            max_spikes_per_unit=args.max_spikes_per_unit, radius_um=args.radius_um, seed=args.seed,
                            output=Path(args.output), regenerate=args.regenerate, save=not args.no_save,
                            plot=not args.no_plot, job_kwargs=_job_kwargs(args))
    run_demo(settings)
    return 0


# ------------------------------------------------------------------------------------------- info
def _add_info(subparsers) -> None:
    info = _parser(subparsers, "info", "describe a saved folder or file (recording, sorting, waveforms, "
                                       "SpikeGLX / Open Ephys / Kilosort / MEArec data)")
    info.add_argument("path", help="the folder or file to describe")
    info.set_defaults(func=_cmd_info)


def _cmd_info(args: argparse.Namespace) -> int:
    from .info import describe

    print(describe(args.path))
    return 0


# ------------------------------------------------------------------------------- extract-waveforms
def _add_extract_waveforms(subparsers) -> None:
    ext = _parser(subparsers, "extract-waveforms",
                  "extract waveforms and templates from a saved recording and sorting into a folder that "
                  "gpuspike.load_waveforms and SpikeInterface's load_waveforms open",
                  aliases=("extract_waveforms",))
    ext.add_argument("recording", help="a saved recording (folder written by recording.save, or any path "
                                       "gpuspike.load opens)")
    ext.add_argument("sorting", help="a saved sorting (folder written by sorting.save, or any path gpuspike.load "
                                     "opens)")
    ext.add_argument("output", help="the waveforms folder to write")
    ext.add_argument("--ms-before", type=float, default=1.0, metavar="MS", help="window before each spike")
    ext.add_argument("--ms-after", type=float, default=2.0, metavar="MS", help="window after each spike")
    ext.add_argument("--max-spikes-per-unit", type=int, default=500, metavar="N",
                     help="waveforms sampled per unit; 0 keeps every spike")
    ext.add_argument("--sparse", action="store_true",
                     help="keep only each unit's channels near its peak (see --method)")
    ext.add_argument("--method", choices=("radius", "best_channels", "snr", "threshold"), default="radius",
                     help="how --sparse chooses channels")
    ext.add_argument("--radius-um", type=float, default=100.0, metavar="UM", help="radius of --method radius")
    ext.add_argument("--num-channels", type=int, default=5, metavar="N", help="channels of --method best_channels")
    ext.add_argument("--seed", type=int, default=None,
                     help="seed of the spike sampling (default: a new random sample on each run)")
    ext.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    _add_job_arguments(ext, n_jobs=1)
    ext.set_defaults(func=_cmd_extract_waveforms)


def _cmd_extract_waveforms(args: argparse.Namespace) -> int:
    import gpuspike as gs

    for name in ("recording", "sorting"):
        if not Path(getattr(args, name)).exists():
            raise UserError(f"{name} {getattr(args, name)!r} does not exist")
    if Path(args.output).exists() and not args.overwrite:
        raise UserError(f"output folder {args.output!r} already exists; add --overwrite to replace it")
    if args.max_spikes_per_unit < 0:
        raise UserError(f"--max-spikes-per-unit={args.max_spikes_per_unit}: give an integer >= 0 (0 keeps all)")
    recording = gs.load(args.recording)
    sorting = gs.load(args.sorting)
    we = gs.extract_waveforms(recording, sorting, folder=args.output, ms_before=args.ms_before,
                              ms_after=args.ms_after, max_spikes_per_unit=args.max_spikes_per_unit or None,
                              sparse=args.sparse, method=args.method, radius_um=args.radius_um,
                              num_channels=args.num_channels, seed=args.seed, overwrite=args.overwrite,
                              **_job_kwargs(args))
    print(we)
    print(f"written to {we.folder}")
    return 0


def _add_doctor(subparsers) -> None:
    from .doctor import build_parser as doctor_arguments

    parser = _parser(subparsers, "doctor", "check the GPU stack (driver, CUDA, libNVVM, CuPy, kvikio), compile every "
                     "CUDA kernel and, with a GPU, run a tiny job on cuda and numpy")
    doctor_arguments(parser)
    parser.set_defaults(func=_cmd_doctor)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import main as doctor_main

    return doctor_main(args=args)


#: (name, add-arguments function) of every subcommand, in the order --help lists them
SUBCOMMANDS: list[tuple[str, Callable]] = [
    ("demo", _add_demo),
    ("info", _add_info),
    ("extract-waveforms", _add_extract_waveforms),
    ("doctor", _add_doctor),
]


def _version() -> str:
    from . import __version__

    return f"gpuspike {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gpuspike`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(prog="gpuspike", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                       title="commands (gpuspike COMMAND --help for each)")
    for _, add in SUBCOMMANDS:
        add(subparsers)
    return parser


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (UserError, FileNotFoundError, FileExistsError, ValueError, TypeError, KeyError,
                        NotADirectoryError, PermissionError, RuntimeError, ImportError)):
        if isinstance(exc, KeyError):
            message = message.strip("'\"")
        return message
    return f"{type(exc).__name__}: {message} (an unexpected error: run again with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gpuspike`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on an error, 2 on bad arguments, 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"gpuspike {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if getattr(args, "debug", False):
            raise
        print(f"gpuspike {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
