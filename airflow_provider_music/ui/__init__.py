"""
Listen in Airflow: the provider's Airflow plugin (``ui.plugin.MusicListenPlugin``, registered through
the ``airflow.plugins`` entry point) and the FastAPI app it mounts in the api-server, which shows a
task instance's tracks (player, waveform, manifest) and streams them from storage.

The top layer: nothing of the provider imports it. Importing this package or ``ui.plugin`` is cheap
(every Airflow process that loads plugins does): FastAPI and the app load only when the api-server
asks the plugin for its apps.
"""
