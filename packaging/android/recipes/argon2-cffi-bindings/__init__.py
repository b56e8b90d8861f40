"""argon2-cffi-bindings for python-for-android: the compiled half of argon2-cffi >= 21.2.

Not built on this project's machines (no NDK): see packaging/android/README.md.
"""

from typing import ClassVar

from pythonforandroid.recipe import PyProjectRecipe


class Argon2CffiBindingsRecipe(PyProjectRecipe):
    name = "argon2-cffi-bindings"
    version = "25.1.0"
    url = "https://pypi.python.org/packages/source/a/argon2-cffi-bindings/argon2_cffi_bindings-{version}.tar.gz"
    depends: ClassVar[list[str]] = ["setuptools", "cffi"]
    hostpython_prerequisites: ClassVar[list[str]] = ["setuptools-scm", "cffi"]
    site_packages_name = "_argon2_cffi_bindings"

    def get_recipe_env(self, arch, **kwargs):
        env = super().get_recipe_env(arch, **kwargs)
        env["ARGON2_CFFI_USE_SSE2"] = "0"  # ARM: the portable reference code
        return env


recipe = Argon2CffiBindingsRecipe()
