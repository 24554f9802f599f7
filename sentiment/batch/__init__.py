"""One scoring step, run four ways: in this process (``local``), on a process
pool (``pool``), on a Dask cluster (``cluster``) and for the page's uploads
(``upload``)."""
