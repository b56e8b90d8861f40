"""argon2-cffi for python-for-android, overriding p4a's recipe (which pins 20.1.0).

The till imports ``argon2.exceptions.InvalidHashError`` (argon2-cffi >= 23.1). Since
21.2 argon2-cffi is pure Python over argon2-cffi-bindings (recipe beside this one).
Not built on this project's machines (no NDK): see packaging/android/README.md.
"""

from typing import ClassVar

from pythonforandroid.recipe import PyProjectRecipe


class Argon2CffiRecipe(PyProjectRecipe):
    name = "argon2-cffi"
    version = "25.1.0"
    url = "https://pypi.python.org/packages/source/a/argon2-cffi/argon2_cffi-{version}.tar.gz"
    depends: ClassVar[list[str]] = ["argon2-cffi-bindings"]
    hostpython_prerequisites: ClassVar[list[str]] = [
        "hatchling",
        "hatch-vcs",
        "hatch-fancy-pypi-readme",
    ]
    site_packages_name = "argon2"


recipe = Argon2CffiRecipe()
