"""C helpers shared by the ops of :mod:`kfkd.ops` (support code strings).

Each string is returned as one element of an op's ``c_support_code()``
list; Theano drops duplicate strings when several ops share a module.
"""

#: ``kfkd_alloc(&out, nd, dims, typenum)``: reuse ``*out`` if it is a
#: C-contiguous array of that shape and type, else replace it by a new one.
#: Returns 0, or -1 with a Python error set.
ALLOC = r"""
static int kfkd_alloc(PyArrayObject** out, int nd, const npy_intp* dims,
                      int typenum)
{
    if (*out && PyArray_NDIM(*out) == nd && PyArray_TYPE(*out) == typenum
            && PyArray_IS_C_CONTIGUOUS(*out)) {
        int same = 1;
        for (int i = 0; i < nd; ++i)
            same &= PyArray_DIMS(*out)[i] == dims[i];
        if (same)
            return 0;
    }
    Py_XDECREF(*out);
    *out = (PyArrayObject*)PyArray_EMPTY(nd, (npy_intp*)dims, typenum, 0);
    return *out ? 0 : -1;
}
"""
