/* lending.catalogue._onixwalk: one ONIX <Product> subtree as the flat form lending.catalogue.onix maps.
 *
 * The pure-Python reader spends most of its time asking lxml for a proxy, a "{ns}Name" string, a parent
 * and a text per element (docs/catalogue-parse.md); this walks libxml2's nodes under the lxml element
 * directly and builds only what the mapping reads. lending/catalogue/onix.py's `flatten` is the
 * definition: both must give identical lists (tests/unit/test_onix_walk.py).
 *
 * walk(product) -> [root, entry, ...]: root = (0, None, ""); then each element of the subtree whose
 * local name (any namespace, or none) has an emitted code, in document order, as
 * (code, parent, text): text = the element's lxml `.text` stripped as str.strip() does ("" if None) for
 * leaf codes, "" otherwise; parent = the parent's entry, or, when the parent is not emitted, an entry
 * made for it then and shared by its children: (its code, 0 unless a structural code, its own parent's
 * entry if that one exists at that moment else None, ""), never in the list.
 *
 * Only libxml2's node structure is read (no libxml2 or lxml function is called): the walk is iterative
 * (any depth), descends into element nodes only (as lxml's iter(): never into an entity reference's
 * declaration), and raises a Python exception rather than crash on anything unexpected. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <libxml/tree.h>
#include "lxml.etree.h"

#define MAX_CODES 64
#define TABLE 256 /* open addressing; a power of two above 2 x MAX_CODES */

typedef struct {
    char *name;
    size_t len;
    int code;
} Slot;

static Slot table[TABLE];
static unsigned char leaf[MAX_CODES];
static int last_emitted;
static PyTypeObject *element_type;
static PyObject *empty;     /* "" */
static PyObject *codes[MAX_CODES]; /* small ints */

static size_t hash_name(const unsigned char *s, size_t *len) {
    size_t h = 2166136261u, n = 0;
    for (; s[n]; n++)
        h = (h ^ s[n]) * 16777619u;
    *len = n;
    return h;
}

static int code_of(const xmlChar *name) {
    size_t len, h;
    if (name == NULL)
        return 0;
    h = hash_name(name, &len) & (TABLE - 1);
    while (table[h].name != NULL) {
        if (table[h].len == len && memcmp(table[h].name, name, len) == 0)
            return table[h].code;
        h = (h + 1) & (TABLE - 1);
    }
    return 0;
}

static void clear_table(void) {
    for (size_t i = 0; i < TABLE; i++) {
        PyMem_Free(table[i].name);
        table[i].name = NULL;
    }
}

static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *type, *names;
    const char *leaves;
    Py_ssize_t nleaves, count;
    int emitted;
    if (!PyArg_ParseTuple(args, "O!O!y#i", &PyType_Type, &type, &PyTuple_Type, &names, &leaves, &nleaves,
                          &emitted))
        return NULL;
    count = PyTuple_GET_SIZE(names);
    if (count > MAX_CODES || nleaves != count || emitted < 0 || emitted >= count) {
        PyErr_SetString(PyExc_ValueError, "setup: at most 64 names, one leaf flag per name, emitted < names");
        return NULL;
    }
    clear_table();
    for (Py_ssize_t code = 1; code < count; code++) {
        Py_ssize_t len;
        size_t h, n;
        const char *name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(names, code), &len);
        if (name == NULL)
            return NULL;
        h = hash_name((const unsigned char *)name, &n) & (TABLE - 1);
        if (n != (size_t)len) {
            PyErr_SetString(PyExc_ValueError, "setup: a name holds a NUL character");
            return NULL;
        }
        while (table[h].name != NULL)
            h = (h + 1) & (TABLE - 1);
        table[h].name = PyMem_Malloc(n + 1);
        if (table[h].name == NULL)
            return PyErr_NoMemory();
        memcpy(table[h].name, name, n + 1);
        table[h].len = n;
        table[h].code = (int)code;
    }
    memset(leaf, 0, sizeof leaf);
    for (Py_ssize_t code = 0; code < count; code++)
        leaf[code] = leaves[code] != 0;
    last_emitted = emitted;
    Py_INCREF(type);
    Py_XSETREF(element_type, (PyTypeObject *)type);
    Py_RETURN_NONE;
}

/* What str.isspace() says of an ASCII byte. */
static int ascii_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* lxml's _textNodeOrSkip: the text or CDATA node at or after `node`, XInclude markers passed over. */
static xmlNode *text_node(xmlNode *node) {
    while (node != NULL) {
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE)
            return node;
        if (node->type != XML_XINCLUDE_START && node->type != XML_XINCLUDE_END)
            return NULL;
        node = node->next;
    }
    return NULL;
}

/* (element.text or "").strip(): lxml's .text is the run of text/CDATA nodes before any other child. */
static PyObject *stripped_text(xmlNode *element) {
    xmlNode *first = text_node(element->children), *node;
    const char *start;
    char *joined = NULL;
    size_t len = 0;
    PyObject *text;
    if (first == NULL)
        return Py_NewRef(empty);
    node = text_node(first->next);
    if (node == NULL) {
        start = first->content ? (const char *)first->content : "";
        len = strlen(start);
    } else {
        size_t at = 0;
        for (node = first; node != NULL; node = text_node(node->next))
            len += node->content ? strlen((const char *)node->content) : 0;
        joined = PyMem_Malloc(len + 1);
        if (joined == NULL)
            return PyErr_NoMemory();
        for (node = first; node != NULL; node = text_node(node->next)) {
            size_t n = node->content ? strlen((const char *)node->content) : 0;
            memcpy(joined + at, node->content, n);
            at += n;
        }
        start = joined;
    }
    while (len > 0 && ascii_space((unsigned char)start[0])) {
        start++;
        len--;
    }
    while (len > 0 && ascii_space((unsigned char)start[len - 1]))
        len--;
    if (len == 0) {
        PyMem_Free(joined);
        return Py_NewRef(empty);
    }
    text = PyUnicode_DecodeUTF8(start, (Py_ssize_t)len, "strict");
    if (text != NULL && ((unsigned char)start[0] >= 0x80 || (unsigned char)start[len - 1] >= 0x80))
        Py_SETREF(text, PyObject_CallMethod(text, "strip", NULL)); /* other whitespace: str.strip's */
    PyMem_Free(joined);
    return text;
}

static PyObject *entry(int code, PyObject *parent, PyObject *text) {
    PyObject *t = PyTuple_New(3);
    if (t == NULL)
        return NULL;
    PyTuple_SET_ITEM(t, 0, Py_NewRef(codes[code]));
    PyTuple_SET_ITEM(t, 1, Py_NewRef(parent ? parent : Py_None));
    PyTuple_SET_ITEM(t, 2, Py_NewRef(text));
    return t;
}

typedef struct {
    xmlNode *node;
    PyObject *entry; /* owned; NULL until the element is emitted or a child needs it */
    int code;
} Level;

static PyObject *walk(PyObject *self, PyObject *arg) {
    xmlNode *root, *node;
    Level *stack = NULL;
    Py_ssize_t depth = 0, capacity = 64;
    PyObject *out = NULL, *root_entry;

    if (element_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_onixwalk.setup() was not called");
        return NULL;
    }
    if (!PyObject_TypeCheck(arg, element_type)) {
        PyErr_Format(PyExc_TypeError, "walk() takes an lxml element, not %.80s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    root = ((struct LxmlElement *)arg)->_c_node;
    if (root == NULL || root->type != XML_ELEMENT_NODE) {
        PyErr_SetString(PyExc_TypeError, "walk() takes an element (not a comment, PI, entity or dead proxy)");
        return NULL;
    }
    stack = PyMem_Malloc(sizeof(Level) * (size_t)capacity);
    out = PyList_New(0);
    root_entry = out ? entry(0, NULL, empty) : NULL;
    if (stack == NULL || root_entry == NULL || PyList_Append(out, root_entry) < 0) {
        Py_XDECREF(root_entry);
        goto fail;
    }
    stack[0] = (Level){root, root_entry, 0};
    depth = 1; /* stack[depth - 1] is the parent of `node` */
    node = root->children;
    for (;;) {
        while (node == NULL) {
            if (depth == 1)
                goto done;
            depth--;
            node = stack[depth].node->next;
            Py_CLEAR(stack[depth].entry);
        }
        if (node->type != XML_ELEMENT_NODE) {
            node = node->next;
            continue;
        }
        int code = code_of(node->name);
        PyObject *mine = NULL;
        if (code > 0 && code <= last_emitted) {
            Level *up = &stack[depth - 1];
            PyObject *text;
            if (up->entry == NULL) { /* made once for all its children, never listed */
                PyObject *above = depth >= 2 ? stack[depth - 2].entry : NULL;
                up->entry = entry(up->code, above, empty);
                if (up->entry == NULL)
                    goto fail;
            }
            text = leaf[code] ? stripped_text(node) : Py_NewRef(empty);
            if (text == NULL)
                goto fail;
            mine = entry(code, up->entry, text);
            Py_DECREF(text);
            if (mine == NULL || PyList_Append(out, mine) < 0) {
                Py_XDECREF(mine);
                goto fail;
            }
        }
        if (node->children != NULL) {
            if (depth == capacity) {
                Level *bigger = PyMem_Realloc(stack, sizeof(Level) * (size_t)capacity * 2);
                if (bigger == NULL) {
                    Py_XDECREF(mine);
                    PyErr_NoMemory();
                    goto fail;
                }
                stack = bigger;
                capacity *= 2;
            }
            stack[depth++] = (Level){node, mine, code};
            node = node->children;
        } else {
            Py_XDECREF(mine);
            node = node->next;
        }
    }
done:
    Py_CLEAR(stack[0].entry);
    PyMem_Free(stack);
    return out;
fail:
    if (stack != NULL) {
        for (Py_ssize_t i = 0; i < depth; i++)
            Py_XDECREF(stack[i].entry);
        PyMem_Free(stack);
    }
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(element_type, names, leaf_flags, last_emitted): the code table (names[code], leaf_flags[code])."},
    {"walk", walk, METH_O, "walk(product) -> the flat form of lending.catalogue.onix.flatten."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module) {
    empty = PyUnicode_FromStringAndSize("", 0);
    if (empty == NULL)
        return -1;
    for (int i = 0; i < MAX_CODES; i++) {
        codes[i] = PyLong_FromLong(i);
        if (codes[i] == NULL)
            return -1;
    }
    return 0;
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_onixwalk", "The ONIX reader's walk of a <Product> in C (see onixwalk.c).", 0,
    methods, slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__onixwalk(void) { return PyModuleDef_Init(&module); }
