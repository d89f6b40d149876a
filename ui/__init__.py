"""The dashboard's shared pieces; ``ann/`` stays free of Streamlit and these modules only call it.

- :mod:`ui.state`   what lives where: the dataset (loaded once per server, read-only), the session's active
  model and training runs (one set per browser session), MNIST download with progress
- :mod:`ui.digits`  28x28 digits as crisp upscaled images, the seed's CSV record
- :mod:`ui.charts`  the altair charts: network diagram, pixel values, curves, confusion matrix, outputs
"""
