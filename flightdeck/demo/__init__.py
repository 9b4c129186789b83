"""The demo workspace, Greenway Grocers, built through the same services the app uses."""
