"""Data for the network: MNIST's files and the sets published in its format, your own data, user images.

- :mod:`ann.data.split`      the containers every reader fills (``Split``, ``MNIST``) and the format errors
- :mod:`ann.data.idx`        IDX files; :mod:`ann.data.csv_files` the seed's CSV format
- :mod:`ann.data.mnist`      MNIST's files: the data folder, download with md5 checks, loading (mapped)
- :mod:`ann.data.named`      the named datasets (MNIST, Fashion-MNIST, Kuzushiji-MNIST) and ``Dataset``
- :mod:`ann.data.own`        your own data: CSV, IDX, folders or zips of images per class
- :mod:`ann.data.decode`     image files and canvas drawings to grey pixels, in bounded memory
- :mod:`ann.data.preprocess` MNIST's own preparation of a digit (crop, fit, centre), and nearer its look
- :mod:`ann.data.prepare`    an image to a network input in one call, for the Draw page and ``predict``
"""
