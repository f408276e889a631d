//! Guest SDK for platform-mesh operator subroutine plugins.
