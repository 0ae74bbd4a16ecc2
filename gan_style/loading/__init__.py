"""Everything that comes from outside passes here: files become validated plain specifications
(:mod:`gan_style.loading.spec`) before anything is built (:mod:`gan_style.loading.sources`); methods of the
user's own are made known by :mod:`gan_style.loading.plugins`."""

from gan_style.loading.plugins import ENTRY_POINT_GROUP, import_modules, known_packages, load_plugins, register_method
from gan_style.loading.sources import build_method, checkpoint_spec, load_method, load_stylizer, read_checkpoint
from gan_style.loading.spec import ClassSpec, class_spec, method_spec

__all__ = [
    "ENTRY_POINT_GROUP",
    "ClassSpec",
    "build_method",
    "checkpoint_spec",
    "class_spec",
    "import_modules",
    "known_packages",
    "load_method",
    "load_plugins",
    "load_stylizer",
    "method_spec",
    "read_checkpoint",
    "register_method",
]
