"""One build step pyproject.toml cannot express: ship the checkout's Streamlit settings in the wheel.

.streamlit/config.toml is the one settings file: ``streamlit run app.py`` reads it from the checkout, and the
wheel carries a copy as dq_app/streamlit_config.toml, which ``dq app`` passes to Streamlit as flags.
package-data cannot name a file outside the package, hence this copy at build time.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONFIG = Path(__file__).parent / ".streamlit" / "config.toml"


class BuildWithStreamlitConfig(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads the checkout's file in place
            target = Path(self.build_lib) / "dq_app" / "streamlit_config.toml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(CONFIG.read_bytes())


setup(cmdclass={"build_py": BuildWithStreamlitConfig})
