"""theano-pymc's compiled ``scan`` loop, built so that it compiles on CPython 3.11.

theano-pymc 1.1.2 runs ``theano.scan`` (and so Lasagne's recurrent layers)
through a C extension, ``scan_perform``, that it compiles on first use from
``theano/scan/c_code/scan_perform.c``: C that Cython 0.29.21 generated before
CPython 3.11 existed.  On 3.11 that compile fails (first with ``fatal error:
longintrepr.h: No such file``), and because the failure is not an
``ImportError`` Theano does not fall back to its Python loop: every scan
fails to compile.

This module builds the same extension itself, from the same file, before
Theano looks for it.  Three of the five incompatibilities sit behind
Cython's own feature switches, turned off with ``-D`` flags
(:data:`DEFINES`); the other two are macro bodies that Cython 0.29.21 wrote
for the pre-3.11 C API, rewritten in the source text before compiling
(:data:`PATCHES`):

======================================  ===========================================
Cython 0.29.21 assumes (CPython <= 3.10)  CPython 3.11
======================================  ===========================================
``#include "longintrepr.h"``            moved to ``cpython/longintrepr.h``; Cython's
                                        ``PyLong`` fast paths are switched off
                                        (``CYTHON_USE_PYLONG_INTERNALS=0``)
frame internals (``f_localsplus``,      opaque ``PyFrameObject``: fast Python calls
``recursion_depth``, ``CO_NOFREE``)     go through the public API
                                        (``CYTHON_FAST_PYCALL=0``)
``tstate->exc_info->exc_type``          only ``exc_value`` is left: exceptions go
                                        through ``PyErr_*``
                                        (``CYTHON_FAST_THREAD_STATE=0``,
                                        ``CYTHON_USE_EXC_INFO_STACK=0``)
15-argument ``PyCode_New`` with empty   17 arguments, and a code object without
bytecode, for traceback entries         bytecode breaks 3.11's ``traceback``
                                        (``generator raised StopIteration``):
                                        ``PyCode_NewEmpty(file, name, line)``, whose
                                        line table names the ``.pyx`` line
``frame->f_lineno = line``              no public setter; not needed, the code
                                        object's first line is that line
======================================  ===========================================

The switches trade some of Cython's shortcuts for public C-API calls; the
loop itself (``scan_perform.pyx``'s typed index arithmetic and buffer
copies) compiles unchanged.  The result lands where Theano looks for it
(``<compiledir>/scan_perform``, with the version file Theano checks), so
Theano imports it instead of compiling its own.

Sources: the CPython 3.11 "What's New" C-API changes (``PyFrameObject``
opaque, ``PyCode_New`` signature, ``longintrepr.h`` moved); Cython 0.29's
``ModuleSetupCode.c`` feature switches named above.

Examples
--------
>>> from kfkd import compat_scan
>>> sorted(compat_scan.DEFINES)[0]
'-DCYTHON_FAST_PYCALL=0'
"""
import os
import re
import sys

__all__ = ["DEFINES", "PATCHES", "needed", "patched_source", "build",
           "install"]

#: Cython feature switches turned off (see the module's table).
DEFINES = ("-DCYTHON_USE_PYLONG_INTERNALS=0", "-DCYTHON_FAST_PYCALL=0",
           "-DCYTHON_FAST_THREAD_STATE=0", "-DCYTHON_USE_EXC_INFO_STACK=0")

#: ``(old, new)`` rewrites of ``scan_perform.c``; each ``old`` occurs once.
PATCHES = (
    (" PyCode_New(a, k, l, s, f, code, c, n, v, fv, cell, fn, name, fline, "
     "lnos)\n",
     " PyCode_NewEmpty(PyUnicode_AsUTF8(fn), PyUnicode_AsUTF8(name), "
     "fline)\n"),
    ("(frame)->f_lineno = (lineno)", "((void)(frame), (void)(lineno))"),
)

_MODULE = "theano.scan.scan_perform_ext"


def needed():
    """Whether this Python needs the rebuilt loop (CPython >= 3.11)."""
    return sys.version_info >= (3, 11)


def patched_source(text):
    """``scan_perform.c``'s text with :data:`PATCHES` applied.

    Parameters
    ----------
    text : str
        The C source theano-pymc 1.1.2 ships.

    Returns
    -------
    str

    Raises
    ------
    RuntimeError
        A pattern does not occur exactly once (another theano-pymc release:
        the rewrite would be a guess, so it is refused).
    """
    for old, new in PATCHES:
        if text.count(old) != 1:
            raise RuntimeError(
                "kfkd.compat_scan: %r occurs %d times in scan_perform.c, "
                "expected once" % (old, text.count(old)))
        text = text.replace(old, new)
    return text


def _theano_scan_dir():
    import theano
    return os.path.join(theano.__path__[0], "scan")


def _expected_version():
    """The ``version`` Theano's ``scan_perform_ext.py`` insists on."""
    with open(os.path.join(_theano_scan_dir(), "scan_perform_ext.py")) as f:
        match = re.search(r"^version = ([0-9.]+)", f.read(), re.M)
    if match is None:
        raise RuntimeError("kfkd.compat_scan: no version in theano's "
                           "scan_perform_ext.py")
    return match.group(1)


def _built(loc, version):
    from theano.link.c import cmodule
    init = os.path.join(loc, "__init__.py")
    lib = os.path.join(loc, "scan_perform." + cmodule.get_lib_extension())
    if not (os.path.exists(init) and os.path.exists(lib)):
        return False
    with open(init) as f:
        return f.read().strip() == "_version = %s" % version


def build():
    """Compile ``scan_perform`` into Theano's compile directory, once.

    Does nothing when it is already there (with Theano's version) or when
    Theano has no C compiler (Theano then uses its Python loop).  Holds
    Theano's compile lock on the folder, so parallel workers compile it
    once.

    Returns
    -------
    str or None
        The folder (``<compiledir>/scan_perform``), or None without g++.

    Raises
    ------
    RuntimeError
        From :func:`patched_source`.
    Exception
        Theano's, with g++'s message, if the compile fails.
    """
    from theano.compile.compilelock import lock_ctx
    from theano.configdefaults import config
    from theano.link.c import cmodule
    if not config.cxx:
        return None
    version = _expected_version()
    loc = os.path.join(config.compiledir, "scan_perform")
    os.makedirs(loc, exist_ok=True)
    with lock_ctx(loc):
        if _built(loc, version):
            return loc
        with open(os.path.join(_theano_scan_dir(), "c_code",
                               "scan_perform.c")) as f:
            code = patched_source(f.read())
        preargs = ["-fwrapv", "-O2", "-fno-strict-aliasing", *DEFINES]
        cmodule.GCC_compiler.compile_str(
            "scan_perform", code, location=loc,
            preargs=preargs + cmodule.GCC_compiler.compile_args(),
            hide_symbols=False)
        with open(os.path.join(loc, "__init__.py"), "w") as f:
            f.write("_version = %s\n" % version)
    return loc


class _BuildBeforeImport:
    """Meta-path hook: :func:`build` when Theano first imports its scan
    extension (so only programs that use ``scan`` pay the ~4 CPU-s compile)."""

    def find_spec(self, name, path=None, target=None):
        if name == _MODULE:
            build()  # if it raises, the next import tries (and says) again
            sys.meta_path.remove(self)
        return None  # the normal finders import Theano's module


def install():
    """Arrange for :func:`build` to run before Theano's scan extension loads.

    A no-op before CPython 3.11 or once that module is imported.
    """
    if not needed() or _MODULE in sys.modules:
        return
    if not any(isinstance(f, _BuildBeforeImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _BuildBeforeImport())
